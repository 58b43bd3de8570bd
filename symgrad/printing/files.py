"""Writing files for users: all or nothing, never half-written, never outside their folder.

Every file symgrad writes goes through :class:`Outputs`. The targets are planned and checked
first (a file in a folder that exists and can be written, not a folder, not an input), then
each is written to a temporary file beside it, and only when all of them are ready are they
renamed into place together. On any exception, an interrupt included, the temporary files are
removed and the old files stay as they were. A new file gets the user's umask; a file that is
replaced keeps its mode.

A file name made from spec text (a model's name) goes through :func:`in_folder`, which refuses
anything that is not a plain file name, so it can never reach another folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import stat
import tempfile
from pathlib import Path

from ..model.errors import SpecError

HELD_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name)}


def in_folder(folder, name: str) -> Path:
    """``folder / name``, where ``name`` must be a plain file name: no folder, not '.' or '..'.

    >>> in_folder("out", "proof.tex").as_posix()
    'out/proof.tex'
    >>> in_folder("out", "../../x.tex")
    Traceback (most recent call last):
    symgrad.model.errors.SpecError: '../../x.tex' is not a plain file name
    """
    separators = {"/", "\0"} | {s for s in (os.sep, os.altsep) if s}
    if name in ("", ".", "..") or any(s in name for s in separators) or Path(name).anchor:
        raise SpecError(f"{name!r} is not a plain file name")
    return Path(folder) / name


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM for a few system calls that must not be cut in two."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    except (AttributeError, ValueError, OSError):  # no POSIX signal masks here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def private_folder(prefix: str):
    """A new private temporary folder, removed with all it holds however the block ends. An
    interrupt cannot fall between the folder's making and its cleanup taking charge of it:
    SIGINT and SIGTERM are held until then (a held one is raised inside the cleanup's try)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    except (AttributeError, ValueError, OSError):  # no POSIX signal masks here
        old = None
    try:
        folder = tempfile.mkdtemp(prefix=prefix)
        try:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
                old = None
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Outputs:
    """Files written together: all of them or none.

    ``add`` checks a target early (before the work that makes its contents), ``write`` writes
    its contents to a temporary file beside it, and leaving the ``with`` block renames every
    temporary file into place; an exception removes them instead. Once the files are ready,
    only the renames are left, and SIGINT and SIGTERM wait until they are done. ``inputs`` are
    files never to be written over (a symlink or another spelling of the same file is the same
    file); ``notify`` is called with a line for every existing file that is replaced.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with Outputs() as out:
    ...         a = out.write(Path(folder) / "a.txt", "a")
    ...         b = out.write(Path(folder) / "b.txt", b"b")
    ...     sorted(p.name for p in Path(folder).iterdir())
    ['a.txt', 'b.txt']
    """

    def __init__(self, inputs=(), notify=None):
        self.inputs = [Path(p) for p in inputs if p not in (None, "-")]
        self.notify = notify
        self._targets: dict[Path, Path] = {}  # the path as given -> the file it names
        self._temps: dict[Path, Path] = {}  # the path as given -> its temporary file

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def add(self, path) -> Path:
        """Check that ``path`` can be written, and plan it; SpecError (exit 2) if not."""
        path = Path(path)
        real = Path(os.path.realpath(path))  # a symlink: the file it points to is replaced
        if real.is_dir():
            raise SpecError("is a folder; give the name of the file to write", file=str(path))
        if real.exists() and not real.is_file():
            raise SpecError("is not a regular file; not writing over it", file=str(path))
        if not real.parent.exists():
            raise SpecError("no such folder to write into", file=str(path.parent))
        if not real.parent.is_dir():
            raise SpecError("is not a folder; cannot write into it", file=str(path.parent))
        if not os.access(real.parent, os.W_OK | os.X_OK):
            raise SpecError("no permission to write into this folder", file=str(path.parent))
        if real.exists() and not os.access(real, os.W_OK):
            raise SpecError("the file is read-only; not replacing it", file=str(path))
        for source in self.inputs:
            if _same_file(real, source):
                raise SpecError(f"would write over the input file {source}", file=str(path))
        if real in self._targets.values():
            raise SpecError("two of the files to write are the same file", file=str(path))
        self._targets[path] = real
        return path

    def write(self, path, data: str | bytes) -> Path:
        """Write ``data`` (text as UTF-8) to a temporary file beside ``path``."""
        path = Path(path)
        real = self._targets.get(path) or self._targets[self.add(path)]
        if path in self._temps:
            self._remove(self._temps.pop(path))
        payload = data if isinstance(data, bytes) else data.encode("utf-8")
        try:
            with _signals_held():  # the temporary file is known as soon as it exists
                fd, temp = _create_beside(real)
                self._temps[path] = temp
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                _keep_mode(f.fileno(), real)
                os.fsync(f.fileno())
        except OSError as err:
            raise SpecError(f"cannot write the file: {err.strerror or err}",
                            file=str(path)) from None
        return path

    def commit(self) -> None:
        """Rename every temporary file into place, none of them cut off by a signal."""
        with _signals_held():
            for path, temp in list(self._temps.items()):
                real = self._targets[path]
                try:
                    if real.exists() and self.notify is not None:
                        self.notify(f"replacing existing file {path}")
                    os.replace(temp, real)
                except OSError as err:
                    self.discard()
                    raise SpecError(f"cannot write the file: {err.strerror or err}",
                                    file=str(path)) from None
                del self._temps[path]

    def discard(self) -> None:
        """Remove every temporary file; the files they were for stay as they were."""
        with _signals_held():
            for temp in self._temps.values():
                self._remove(temp)
            self._temps.clear()

    @staticmethod
    def _remove(temp: Path) -> None:
        with contextlib.suppress(OSError):
            temp.unlink()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return Path(os.path.realpath(a)) == Path(os.path.realpath(b))


def _create_beside(real: Path) -> tuple[int, Path]:
    """A new file in ``real``'s folder, created with the user's umask (not mkstemp's 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = real.with_name(f".{real.name[:64]}.{secrets.token_hex(4)}.symgrad-tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {real}")


def _keep_mode(fd: int, real: Path) -> None:
    """A file that is replaced keeps its mode (and, where allowed, its owner and group)."""
    try:
        old = os.stat(real)
    except FileNotFoundError:
        return
    if hasattr(os, "fchown"):  # first: a change of owner clears the setuid bits
        with contextlib.suppress(OSError):
            os.fchown(fd, old.st_uid, old.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))
