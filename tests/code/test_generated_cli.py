"""The command line inside a generated module: train and predict from .npz and .csv files;
bad data gets one line on stderr and exit code 2."""

import subprocess
import sys

import numpy as np
import pytest

from symgrad.code.verify import load_module


def test_train_then_predict(logreg, files, run):
    mod = load_module(logreg)
    code, out, err = run(mod, "train", "--data", files / "train.npz", "--iterations",
                         "300", "--learning-rate", "0.5", "--save", files / "p.npz")
    assert code == 0, err
    assert out.splitlines()[:3] == ["Cost after iteration 0: 0.693147",
                                    out.splitlines()[1], out.splitlines()[2]]
    assert "Cost after iteration 200:" in out and "saved the parameters" in out
    params = mod.load_parameters(files / "p.npz")
    assert params["w"].shape == (3, 1) and type(params["b"]) is float
    code, out, err = run(mod, "predict", "--params", files / "p.npz", "--data",
                         files / "test.csv")
    assert code == 0 and len(out.split()) == 40 and set(out.split()) == {"0", "1"}
    assert "accuracy" in err
    code, out, _ = run(mod, "predict", "--params", files / "p.npz", "--data",
                       files / "unlabelled.csv")
    assert code == 0 and len(out.split()) == 5


def test_train_from_csv(logreg, files, run):
    mod = load_module(logreg)
    code, _, err = run(mod, "train", "--data", files / "test.csv", "--iterations", "1",
                       "--save", files / "q.npz")
    assert code == 0, err
    assert (files / "q.npz").exists()


def write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file"),
    ("nan", "NaN"),
    ("label", "must be 0 or 1, found 2"),
    ("shape", "Y must have shape (1, m)"),
    ("count", "4 examples but 3 labels"),
    ("text", "cannot read"),
    ("empty", "no examples"),
    ("suffix", "expected a .npz or a .csv file"),
    ("features", "1 feature(s); the parameters expect 3"),
    ("params", "no parameter w"),
    ("save", "cannot write"),
])
def test_bad_input_gets_one_line_and_exit_code_2(logreg, files, run, case, message):
    mod = load_module(logreg)
    np.savez(files / "p.npz", w=np.zeros((3, 1)), b=0.0)
    np.savez(files / "shape.npz", X=np.ones((3, 4)), Y=np.ones((2, 4)))
    np.savez(files / "count.npz", X=np.ones((3, 4)), Y=np.ones((1, 3)))
    data = {
        "missing": files / "nothing.csv",
        "nan": write(files / "nan.csv", "1,2,nan,1\n"),
        "label": write(files / "label.csv", "1,2,3,2\n"),
        "shape": files / "shape.npz",
        "count": files / "count.npz",
        "text": write(files / "text.csv", "a,b,c,label\n1,2,3,1\n"),
        "empty": write(files / "empty.csv", ""),
        "suffix": write(files / "data.txt", "1,2,3,1\n"),
    }
    if case == "features":
        argv = ["predict", "--params", files / "p.npz", "--data",
                write(files / "one.csv", "0.5,1\n")]
    elif case == "params":
        argv = ["predict", "--params", files / "train.npz", "--data", files / "test.csv"]
    elif case == "save":
        argv = ["train", "--data", files / "train.npz", "--iterations", "1", "--save",
                files / "missing" / "p.npz"]
    else:
        argv = ["train", "--data", data[case], "--save", files / "never.npz"]
    code, _, err = run(mod, *argv)
    assert code == 2
    assert err.count("\n") == 1 and "error: " in err and message in err, err
    assert not (files / "never.npz").exists()


@pytest.mark.slow
def test_runs_as_a_script(logreg, files):
    out = subprocess.run([sys.executable, logreg, "train", "--data", files / "train.npz",
                          "--iterations", "101", "--save", files / "s.npz"],
                         capture_output=True, text=True, cwd=files)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Cost after iteration 0: 0.693147\nCost after iteration 100:")
    bad = subprocess.run([sys.executable, logreg, "predict", "--params", files / "s.npz",
                          "--data", files / "nothing.npz"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().endswith("nothing.npz: no such file")


@pytest.mark.slow
def test_deep_network_layers_from_the_command_line(deep, files, run):
    code, out, err = run(deep, "train", "--data", files / "train.npz", "--layers",
                         "5,4,3", "--iterations", "200", "--learning-rate", "0.1", "--save",
                         files / "deep.npz")
    assert code == 0, err
    assert "Cost after iteration 100:" in out and "saved the parameters" in out
    params = deep.load_parameters(files / "deep.npz")
    assert sorted(params) == ["W1", "W2", "W3", "W4", "b1", "b2", "b3", "b4"]
    assert deep.check_parameters(params, "p") == [3, 5, 4, 3, 1]
    code, out, err = run(deep, "predict", "--params", files / "deep.npz", "--data",
                         files / "test.csv")
    assert code == 0 and len(out.split()) == 40 and "accuracy" in err
    code, _, err = run(deep, "train", "--data", files / "train.npz", "--iterations", "1",
                       "--save", files / "default.npz")
    assert code == 0, err
    assert deep.check_parameters(deep.load_parameters(files / "default.npz"), "p") == [
        3, *deep.HIDDEN_LAYERS, 1]


@pytest.mark.parametrize("params, message", [
    ({"W1": np.zeros((4, 3)), "b1": np.zeros((4, 1)), "W2": np.zeros((1, 5)),
      "b2": np.zeros((1, 1))}, "W2 has shape (1, 5), expected (1, 4)"),
    ({"W1": np.zeros((4, 3)), "b1": np.zeros((4, 1)), "W2": np.zeros((2, 4)),
      "b2": np.zeros((2, 1))}, "the output layer has 2 units, expected 1"),
    ({"W1": np.zeros((4, 3)), "b1": np.zeros((4, 1)), "W2": np.zeros((1, 4))},
     "no parameter b2"),
])
def test_deep_network_refuses_parameters_that_do_not_fit(deep, files, run, params, message):
    np.savez(files / "bad.npz", **params)
    code, _, err = run(deep, "predict", "--params", files / "bad.npz", "--data",
                       files / "test.csv")
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_deep_network_refuses_bad_layers(deep, files, capsys):
    with pytest.raises(SystemExit) as exit:
        deep.main(["train", "--data", str(files / "train.npz"), "--layers", "5,x"])
    assert exit.value.code == 2
    assert "expected whole numbers separated by commas" in capsys.readouterr().err
