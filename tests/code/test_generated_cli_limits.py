"""The limits of a generated module's command line: every refusal is exit code 2 and one line
on stderr that names the argument or the file, nothing is allocated beyond MEMORY_LIMIT, no
file is overwritten or half-written, and a reader that closes stdout early gets no traceback.
"""

import functools
import io
import os
import stat
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from symgrad.code.verify import load_module


@pytest.fixture(scope="module")
def module(generated_script):
    """name -> the module generated from derivations/<name>.toml, imported once."""
    return functools.cache(lambda name: load_module(generated_script(name)))


def refused(result, *words):
    """True where main refused: exit code 2, one line on stderr, holding every word."""
    code, _, err = result
    return code == 2 and err.count("\n") == 1 and err.endswith("\n") and all(
        word in err for word in words)


def listing(folder):
    """The folder's files and their bytes: what a refused command must leave as it was."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# ----- the arguments: sizes, rates and counts


@pytest.mark.parametrize("name, argv, argument", [
    ("shallow_network", ["--n_h", "0"], "--n_h"),
    ("shallow_network", ["--n_h", "-3"], "--n_h"),
    ("shallow_network", ["--n_h", "four"], "--n_h"),
    ("deep_network", ["--layers", "8,0"], "--layers"),
    ("deep_network", ["--layers", "-3"], "--layers"),
    ("logistic_regression", ["--learning-rate", "nan"], "--learning-rate"),
    ("logistic_regression", ["--learning-rate", "inf"], "--learning-rate"),
    ("logistic_regression", ["--learning-rate", "-1"], "--learning-rate"),
    ("logistic_regression", ["--learning-rate", "0"], "--learning-rate"),
    ("logistic_regression", ["--iterations", "0"], "--iterations"),
    ("logistic_regression", ["--iterations", "-5"], "--iterations"),
    ("logistic_regression", ["--seed", "-1"], "--seed"),
    ("regularized_logistic", ["--lambd", "nan"], "--lambd"),
])
def test_bad_arguments_are_refused(module, files, run, name, argv, argument):
    before = listing(files)
    result = run(module(name), "train", "--data", files / "train.npz", "--save",
                 files / "never.npz", *argv)
    assert refused(result, f"argument {argument}:", repr(argv[1])), result
    assert listing(files) == before


@pytest.mark.parametrize("name, argv, argument", [
    ("shallow_network", ["--n_h", str(10**9)], "--n_h 1000000000"),
    ("deep_network", ["--layers", "100000,100000"], "--layers 100000,100000"),
])
def test_sizes_beyond_memory_are_refused_before_allocating(module, files, run, name, argv,
                                                           argument):
    result = run(module(name), "train", "--data", files / "train.npz", "--save",
                 files / "never.npz", *argv)
    assert refused(result, argument, "40 examples", "GiB", "limit"), result
    assert not (files / "never.npz").exists()


def test_predict_refuses_activations_beyond_memory(module, files, run):
    n_h = 50_000  # 1.2 MB of parameters; 4 activations of (n_h, 2000) would take 3.2 GB
    np.savez(files / "wide.npz", W1=np.zeros((n_h, 3)), b1=np.zeros((n_h, 1)),
             W2=np.zeros((1, n_h)), b2=np.zeros((1, 1)))
    np.savez(files / "many.npz", X=np.zeros((3, 2000)))
    result = run(module("shallow_network"), "predict", "--params", files / "wide.npz",
                 "--data", files / "many.npz")
    assert refused(result, "wide.npz", "many.npz", "2000 examples", "GiB"), result
    assert result[1] == ""


def test_a_one_hot_label_beyond_memory_is_refused(module, files, run):
    (files / "classes.csv").write_text("0.5,1,2,1e12\n0.5,1,2,0\n")
    result = run(module("softmax_regression"), "train", "--data", files / "classes.csv",
                 "--save", files / "never.npz")
    assert refused(result, "classes.csv", "class 1e+12", "limit"), result


# ----- .npz data


def bomb(path):
    """A .npz file whose member X says it unpacks to 3.75 GiB: ZipInfo.file_size alone."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros((3, 4)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("X.npy", buffer.getvalue())
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the central directory's record of X.npy
    data[entry + 24:entry + 28] = struct.pack("<I", 0xF000_0000)  # its uncompressed size
    path.write_bytes(bytes(data))


def liar(path):
    """A .npz file whose X's header claims 3 x 2**40 floats, with 64 bytes of them."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": (3, 2**40)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", buffer.getvalue() + bytes(64))


X = np.arange(12.0).reshape(3, 4)
Y = np.array([[0.0, 1.0, 1.0, 0.0]])
DATA = {
    "objects": (dict(X=np.array([[1, "a"]], dtype=object), Y=Y), "X holds Python objects"),
    "complex": (dict(X=X + 1j, Y=Y), "X holds complex numbers"),
    "text": (dict(X=np.array([["1", "2"]]), Y=Y), "not numbers"),
    "no_features": (dict(X=np.zeros((0, 4)), Y=Y), "X must have shape (n_x, m)"),
    "no_X": (dict(Y=Y), "no array X"),
    "no_Y": (dict(X=X), "no labels (Y)"),
    "fewer_labels": (dict(X=X, Y=Y[:, :3]), "4 examples but 3 labels"),
    "no_labels": (dict(X=X, Y=np.zeros(0)), "4 examples but 0 labels"),
    "nan": (dict(X=np.where(X > 5, np.nan, X), Y=Y), "X contains NaN"),
    "inf": (dict(X=X, Y=Y + np.inf), "Y contains NaN or infinite"),
    "bomb": (bomb, "the data unpack to 4026531840 bytes, more than the limit"),
    "liar": (liar, "X needs 26388279066624 bytes, more than the limit"),
    "not_zip": (b"PK\x03\x04 not a zip file", "not a .npz file of numbers"),
}


@pytest.mark.parametrize("case", DATA)
def test_bad_npz_data_is_refused(module, files, run, case):
    contents, message = DATA[case]
    path = files / f"{case}.npz"
    if isinstance(contents, dict):
        np.savez(path, **contents)
    elif isinstance(contents, bytes):
        path.write_bytes(contents)
    else:
        contents(path)
    before = listing(files)
    result = run(module("logistic_regression"), "train", "--data", path, "--save",
                 files / "never.npz")
    assert refused(result, f"{case}.npz", message), result
    assert listing(files) == before


def test_the_limit_holds_for_members_that_really_unpack(module, files, run, monkeypatch):
    logistic = module("logistic_regression")
    np.savez_compressed(files / "zeros.npz", X=np.zeros((3, 10_000)), Y=np.zeros((1, 10_000)))
    monkeypatch.setattr(logistic, "MEMORY_LIMIT", 100_000)  # 2 x 80 kB of zeros unpacked
    result = run(logistic, "predict", "--params", files / "zeros.npz", "--data",
                 files / "train.npz")
    assert refused(result, "zeros.npz", "the parameters unpack to", "limit of 100000"), result


def test_parameters_with_objects_are_refused_unpickled(module, files, run):
    np.savez(files / "p.npz", w=np.array([None, 1], dtype=object), b=0.0)
    result = run(module("logistic_regression"), "predict", "--params", files / "p.npz",
                 "--data", files / "test.csv")
    assert refused(result, "p.npz", "w holds Python objects"), result


def test_a_file_name_with_a_newline_stays_on_one_line(module, files, run):
    result = run(module("logistic_regression"), "train", "--data", files / "a\nb.npz")
    assert refused(result, "a\\nb.npz: no such file"), result


# ----- --save


@pytest.mark.parametrize("case, message", [
    ("data", "is the --data file"),
    ("folder", "is a folder"),
    ("missing", "cannot write: no folder"),
    ("suffix", "expected a file name ending in .npz"),
])
def test_save_refuses_targets_it_cannot_or_must_not_write(module, files, run, case, message):
    (files / "folder.npz").mkdir()
    (files / "link.npz").symlink_to(files / "train.npz")
    target = {"data": files / "link.npz", "folder": files / "folder.npz",
              "missing": files / "missing" / "p.npz", "suffix": files / "test.csv"}[case]
    before = listing(files)
    result = run(module("logistic_regression"), "train", "--data", files / "train.npz",
                 "--iterations", "1", "--save", target)
    assert refused(result, f"--save {target}", message), result
    assert listing(files) == before


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes read-only files")
def test_save_refuses_a_read_only_file(module, files, run):
    (files / "p.npz").write_bytes(b"kept")
    (files / "p.npz").chmod(0o444)
    result = run(module("logistic_regression"), "train", "--data", files / "train.npz",
                 "--iterations", "1", "--save", files / "p.npz")
    assert refused(result, "--save", "read-only"), result
    assert (files / "p.npz").read_bytes() == b"kept"


def test_save_replaces_a_file_keeping_its_mode_and_says_so(module, files, run):
    logistic = module("logistic_regression")
    (files / "p.npz").write_bytes(b"old")
    (files / "p.npz").chmod(0o640)
    code, out, err = run(logistic, "train", "--data", files / "train.npz", "--iterations", "1",
                         "--save", files / "p.npz")
    assert code == 0 and "saved the parameters" in out
    assert err.count("\n") == 1 and err.endswith(f": replaced the file {files / 'p.npz'}\n")
    assert stat.S_IMODE((files / "p.npz").stat().st_mode) == 0o640
    assert set(logistic.load_parameters(files / "p.npz")) == {"w", "b"}
    assert sorted(p.name for p in files.glob(".p.npz*")) == []  # no temporary file left


def test_save_gives_a_new_file_the_umask(module, files, run):
    umask = os.umask(0o027)
    try:
        code, _, err = run(module("logistic_regression"), "train", "--data",
                           files / "train.npz", "--iterations", "1", "--save",
                           files / "new.npz")
    finally:
        os.umask(umask)
    assert code == 0 and err == ""
    assert stat.S_IMODE((files / "new.npz").stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_whole(module, files, run, monkeypatch):
    logistic = module("logistic_regression")
    (files / "p.npz").write_bytes(b"old parameters")

    def disk_full(file, **arrays):
        file.write(b"PK half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(logistic.np, "savez", disk_full)
    result = run(logistic, "train", "--data", files / "train.npz", "--iterations", "1",
                 "--save", files / "p.npz")
    assert refused(result, "--save", "cannot write: No space left on device"), result
    assert (files / "p.npz").read_bytes() == b"old parameters"
    assert sorted(p.name for p in files.iterdir() if p.name.startswith(".")) == []


# ----- a reader that closes stdout early


def test_predict_into_a_closed_pipe_ends_quietly(generated_script, files):
    """`predict ... | head -1`: 200 kB of predictions into a pipe closed after one line."""
    np.savez(files / "p.npz", w=np.ones((3, 1)), b=0.0)
    np.savez(files / "many.npz", X=np.ones((3, 100_000)))
    command = [sys.executable, generated_script("logistic_regression"), "predict",
               "--params", files / "p.npz", "--data", files / "many.npz"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as head:
        assert head.stdout.readline() == b"1\n"
        head.stdout.close()
        err = head.stderr.read()
    assert head.returncode == 0 and err == b"", err.decode()


def into_a_closed_pipe(command, **options):
    """Run command with its stdout a pipe whose reader has already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(command, stdout=writer, stderr=subprocess.PIPE, **options)
    finally:
        os.close(writer)


@pytest.mark.parametrize("buffered", [True, False])
def test_train_into_a_closed_pipe(generated_script, files, buffered):
    """Buffered (stdout a pipe, as usual), the costs wait in Python's buffer: training
    saves, and the closed pipe found at the last flush ends it quietly. Unbuffered
    (python -u), the first cost line finds it: training stops, says that nothing was
    saved, exit code 1."""
    script = generated_script("logistic_regression")
    command = [sys.executable, *([] if buffered else ["-u"]), script, "train", "--data",
               files / "train.npz", "--iterations", "300", "--save", files / "p.npz"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    before = listing(files)
    out = into_a_closed_pipe(command, env=env)
    if buffered:
        assert out.returncode == 0 and out.stderr == b"", out.stderr.decode()
        assert (files / "p.npz").exists()
    else:
        assert out.returncode == 1 and out.stderr.count(b"\n") == 1, out.stderr.decode()
        assert b"stdout was closed during training; nothing saved" in out.stderr
        assert listing(files) == before
