# Data for tests/claims/test_homework.py: a file that would do harm if imported or run; the
# checker reads it statically, so none of this happens.
import os

os.system("touch /tmp/symgrad_homework_was_run")
raise SystemExit("this file was imported")


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    dw = np.dot(X, (A - Y).T) / m
    db = np.sum(A - Y) / m
    return dw, db
