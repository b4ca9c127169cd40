"""The versioned image history: sessions, versions, branches, assets.

`Store` opens the database and blob folder once; `Store.session(name)` gives a
`History` bound to one session, with git-like operations over images:

    history = Store(data_dir).session("default")
    root = history.import_image("photo.jpg")
    child = history.commit(edited_image, Operation(tool="relight", args={...}))
    history.undo(); history.branch("forest", from_version=root.id)

Every write is atomic: the blob is durable on disk before the one database
transaction that records it, and the transaction moves a branch head only if it
still points where the caller expects, so concurrent writers never corrupt a head.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from PIL import Image
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DBSession

from storage.blobs import BlobStore, BlobTimings
from storage.errors import ConflictError, ImageError, NotFound, StorageError
from storage.images import DEFAULT_MAX_PIXELS, ImageSource, load_image
from storage.models import AssetRow, Base, BranchRow, SessionRow, VersionRow, utcnow

MAIN_BRANCH = "main"
IMPORT_TOOL = "import"


@dataclass
class Operation:
    """What made a version from its parent: the record that lets it be understood and re-run."""

    tool: str
    args: dict = field(default_factory=dict)
    backend: str | None = None
    model_id: str | None = None
    seed: int | None = None
    steps: int | None = None
    duration_s: float | None = None
    instruction: str | None = None


@dataclass(frozen=True)
class Version:
    id: int
    session: str
    parent_id: int | None
    image_sha256: str
    width: int
    height: int
    mode: str
    tool: str
    args: dict
    backend: str | None
    model_id: str | None
    seed: int | None
    steps: int | None
    duration_s: float | None
    instruction: str | None
    created_at: datetime
    branches: tuple[str, ...] = ()

    def to_json(self) -> dict:
        data = asdict(self)
        data["branches"] = list(self.branches)
        data["created_at"] = self.created_at.isoformat()
        return data


@dataclass(frozen=True)
class Asset:
    id: int
    session: str
    kind: str
    name: str | None
    image_sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class SessionInfo:
    name: str
    current_branch: str
    versions: int
    created_at: datetime
    last_activity: datetime | None


@dataclass
class CommitTimings(BlobTimings):
    """Seconds spent per phase of a commit (bench/store.py prints them)."""

    db: float = 0.0


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; we only ever store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Store:
    """The database and blob folder of one data dir (or any SQLAlchemy URL + data dir)."""

    def __init__(self, data_dir: str | os.PathLike, url: str | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        self.data_dir = Path(data_dir).expanduser()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.max_pixels = max_pixels
        self.blobs = BlobStore(self.data_dir / "blobs")
        self.url = url or f"sqlite:///{self.data_dir / 'retouch.db'}"
        self.engine = _make_engine(self.url)
        # Writers take the write lock when their transaction begins (SQLite BEGIN
        # IMMEDIATE): a read-then-write transaction can then never fail half-way.
        self.write_engine = self.engine.execution_options(retouch_write=True)
        Base.metadata.create_all(self.engine)

    def session(self, name: str = "default") -> "History":
        if not name or not name.strip():
            raise StorageError("a session needs a name")
        return History(self, name.strip())

    def sessions(self) -> list[SessionInfo]:
        with DBSession(self.engine) as db:
            rows = db.execute(
                select(SessionRow, func.count(VersionRow.id), func.max(VersionRow.created_at))
                .outerjoin(VersionRow, VersionRow.session_id == SessionRow.id)
                .group_by(SessionRow.id)
                .order_by(SessionRow.id)
            ).all()
        return [
            SessionInfo(row.name, row.current_branch, count, _aware(row.created_at),
                        _aware(last) if last else None)
            for row, count, last in rows
        ]

    @contextmanager
    def reading(self) -> Iterator[DBSession]:
        with DBSession(self.engine) as db, db.begin():
            yield db

    @contextmanager
    def writing(self) -> Iterator[DBSession]:
        with DBSession(self.write_engine, expire_on_commit=False) as db, db.begin():
            yield db

    def close(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        write = connection.get_execution_options().get("retouch_write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class History:
    """One session's versions and branches."""

    def __init__(self, store: Store, name: str):
        self.store = store
        self.name = name

    # ----- reading -------------------------------------------------------------------

    @property
    def current_branch(self) -> str:
        with self.store.reading() as db:
            row = self._session_row(db)
            return row.current_branch if row else MAIN_BRANCH

    def exists(self) -> bool:
        with self.store.reading() as db:
            return self._session_row(db) is not None

    def head(self, branch: str | None = None) -> Version:
        with self.store.reading() as db:
            row = self._require_session(db)
            return self._to_version(db, self._head_row(db, row, branch or row.current_branch))

    def branches(self) -> dict[str, int]:
        """Branch name -> head version id, oldest branch first."""
        with self.store.reading() as db:
            row = self._session_row(db)
            if row is None:
                return {}
            return dict(db.execute(
                select(BranchRow.name, BranchRow.head_id)
                .where(BranchRow.session_id == row.id).order_by(BranchRow.id)
            ).all())

    def version(self, version_id: int | str) -> Version:
        with self.store.reading() as db:
            row = self._require_session(db)
            return self._to_version(db, self._version_row(db, row, version_id))

    def image(self, version_id: int | str) -> Image.Image:
        return self.store.blobs.open(self.version(version_id).image_sha256)

    def log(self) -> list[Version]:
        """Every version of the session in creation order, with the branches pointing at it."""
        with self.store.reading() as db:
            row = self._session_row(db)
            if row is None:
                return []
            heads: dict[int, list[str]] = {}
            for name, head_id in db.execute(
                select(BranchRow.name, BranchRow.head_id)
                .where(BranchRow.session_id == row.id).order_by(BranchRow.id)
            ):
                heads.setdefault(head_id, []).append(name)
            columns = [getattr(VersionRow, name) for name in _VERSION_COLUMNS]
            result = db.execute(
                select(*columns).where(VersionRow.session_id == row.id).order_by(VersionRow.id)
            ).all()
        return [self._from_columns(values, heads.get(values[0], ())) for values in result]

    def ancestry(self, version_id: int | str) -> list[Version]:
        """The path from the root import to this version, root first."""
        by_id = {version.id: version for version in self.log()}
        current = by_id.get(_parse_id(version_id))
        if current is None:
            raise NotFound(f"version {version_id} is not in session '{self.name}'")
        path = [current]
        while current.parent_id is not None:
            current = by_id[current.parent_id]
            path.append(current)
        return path[::-1]

    def assets(self, kind: str | None = None) -> list[Asset]:
        with self.store.reading() as db:
            row = self._session_row(db)
            if row is None:
                return []
            query = select(AssetRow).where(AssetRow.session_id == row.id).order_by(AssetRow.id)
            if kind:
                query = query.where(AssetRow.kind == kind)
            return [self._to_asset(asset) for asset in db.scalars(query)]

    def asset_image(self, asset_id: int) -> Image.Image:
        for asset in self.assets():
            if asset.id == asset_id:
                return self.store.blobs.open(asset.image_sha256)
        raise NotFound(f"asset {asset_id} is not in session '{self.name}'")

    # ----- writing -------------------------------------------------------------------

    def import_image(self, source: ImageSource, instruction: str | None = None,
                     name: str | None = None) -> Version:
        """Add an image as a new root version; the current branch now points at it."""
        image = load_image(source, self.store.max_pixels)
        args = {"source": name or (str(source) if isinstance(source, (str, os.PathLike)) else None)}
        return self._commit(image, Operation(tool=IMPORT_TOOL, args=args, instruction=instruction),
                            parent_id=None, root=True)

    def commit(self, image: Image.Image, operation: Operation, parent_id: int | None = None,
               branch: str | None = None, move_head: bool = True,
               timings: CommitTimings | None = None) -> Version:
        """Record `image` as a child version and (by default) move the branch head to it.

        `parent_id` is the version the edit started from; when moving the head it must
        still be the branch head, else ConflictError (someone else committed meanwhile)
        and nothing is recorded. Without it, the child goes on the current head.
        """
        return self._commit(image, operation, parent_id, branch=branch, move_head=move_head,
                            timings=timings)

    def _commit(self, image: Image.Image, operation: Operation, parent_id: int | None,
                root: bool = False, branch: str | None = None, move_head: bool = True,
                timings: CommitTimings | None = None) -> Version:
        if not isinstance(image, Image.Image):
            raise StorageError("a version needs a PIL image")
        if image.mode not in ("RGB", "RGBA"):
            image = load_image(image, self.store.max_pixels)
        timings = timings or CommitTimings()
        sha = self.store.blobs.put_image(image, timings)  # durable before the DB knows it
        start = time.perf_counter()
        with self.store.writing() as db:
            session_row = self._session_row(db) or self._create_session(db)
            branch_name = branch or session_row.current_branch
            branch_row = self._branch_row(db, session_row, branch_name, lock=True)
            if root:
                parent = None
            else:
                if branch_row is None:
                    raise NotFound(f"session '{self.name}' has no images yet; import one first")
                parent = branch_row.head_id if parent_id is None else _parse_id(parent_id)
                self._version_row(db, session_row, parent)
                if move_head and parent != branch_row.head_id:
                    raise ConflictError(
                        f"branch '{branch_name}' moved to version {branch_row.head_id} while this "
                        f"edit ran on version {parent}; nothing was committed, try again"
                    )
            row = VersionRow(
                session_id=session_row.id, parent_id=parent, image_sha256=sha,
                width=image.width, height=image.height, mode=image.mode,
                tool=operation.tool, args=operation.args or {}, backend=operation.backend,
                model_id=operation.model_id, seed=operation.seed, steps=operation.steps,
                duration_s=operation.duration_s, instruction=operation.instruction,
                created_at=utcnow(),
            )
            db.add(row)
            db.flush()
            if move_head:
                if branch_row is None:
                    db.add(BranchRow(session_id=session_row.id, name=branch_name, head_id=row.id))
                else:
                    branch_row.head_id = row.id
            db.flush()
            version = self._to_version(db, row)
        timings.db = time.perf_counter() - start
        return version

    def undo(self, steps: int = 1) -> Version:
        """Move the current branch head back `steps` parents; the undone versions stay in the tree."""
        if steps < 1:
            raise StorageError("undo needs a positive number of steps")
        with self.store.writing() as db:
            session_row = self._require_session(db)
            branch_row = self._head_branch(db, session_row)
            target = db.get(VersionRow, branch_row.head_id)
            for taken in range(steps):
                if target.parent_id is None:
                    raise StorageError(
                        f"cannot undo {steps} step(s): version {target.id} is the original "
                        f"import, {taken} step(s) back"
                    )
                target = db.get(VersionRow, target.parent_id)
            branch_row.head_id = target.id
            db.flush()
            return self._to_version(db, target)

    def revert(self, version_id: int | str) -> Version:
        """Point the current branch at any earlier (or later) version; nothing is deleted."""
        with self.store.writing() as db:
            session_row = self._require_session(db)
            target = self._version_row(db, session_row, version_id)
            branch_row = self._head_branch(db, session_row)
            branch_row.head_id = target.id
            db.flush()
            return self._to_version(db, target)

    def branch(self, name: str, from_version: int | str | None = None,
               checkout: bool = True) -> Version:
        """Create branch `name` at a version (default: the current head) and switch to it."""
        name = _check_branch_name(name)
        with self.store.writing() as db:
            session_row = self._require_session(db)
            if self._branch_row(db, session_row, name) is not None:
                raise StorageError(f"branch '{name}' already exists in session '{self.name}'")
            if from_version is None:
                target = db.get(VersionRow, self._head_branch(db, session_row).head_id)
            else:
                target = self._version_row(db, session_row, from_version)
            db.add(BranchRow(session_id=session_row.id, name=name, head_id=target.id))
            if checkout:
                session_row.current_branch = name
            db.flush()
            return self._to_version(db, target)

    def checkout(self, name: str) -> Version:
        with self.store.writing() as db:
            session_row = self._require_session(db)
            branch_row = self._branch_row(db, session_row, name)
            if branch_row is None:
                known = ", ".join(self._branch_names(db, session_row))
                raise NotFound(f"no branch '{name}' in session '{self.name}' (branches: {known})")
            session_row.current_branch = name
            db.flush()
            return self._to_version(db, db.get(VersionRow, branch_row.head_id))

    def add_asset(self, source: ImageSource, kind: str, name: str | None = None) -> Asset:
        """Keep an uploaded reference or mask with the session."""
        if kind not in ("reference", "mask", "upload"):
            raise StorageError(f"unknown asset kind '{kind}'")
        image = load_image(source, self.store.max_pixels)
        sha = self.store.blobs.put_image(image)
        with self.store.writing() as db:
            session_row = self._session_row(db) or self._create_session(db)
            row = AssetRow(session_id=session_row.id, kind=kind, name=name, image_sha256=sha,
                           width=image.width, height=image.height, created_at=utcnow())
            db.add(row)
            db.flush()
            return self._to_asset(row)

    def export(self, version_id: int | str, path: str | os.PathLike) -> Path:
        """Write a version's image to `path` (format from the suffix; PNG when there is none)."""
        target = Path(path).expanduser()
        if not target.parent.is_dir():
            raise StorageError(f"cannot write {target}: folder {target.parent} does not exist")
        image = self.image(version_id)
        fmt = Image.registered_extensions().get(target.suffix.lower(), "PNG")
        if fmt in ("JPEG", "BMP") and image.mode == "RGBA":
            image = image.convert("RGB")
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".retouch-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                image.save(handle, format=fmt)
            os.replace(tmp_name, target)
        except (OSError, ValueError, KeyError) as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise StorageError(f"cannot write {target}: {exc}") from None
        return target

    # ----- helpers -------------------------------------------------------------------

    def _session_row(self, db: DBSession) -> SessionRow | None:
        return db.scalar(select(SessionRow).where(SessionRow.name == self.name))

    def _require_session(self, db: DBSession) -> SessionRow:
        row = self._session_row(db)
        if row is None:
            raise NotFound(f"session '{self.name}' has no images yet; import one first")
        return row

    def _create_session(self, db: DBSession) -> SessionRow:
        row = SessionRow(name=self.name, current_branch=MAIN_BRANCH, created_at=utcnow())
        db.add(row)
        db.flush()
        return row

    def _branch_row(self, db: DBSession, session_row: SessionRow, name: str,
                    lock: bool = False) -> BranchRow | None:
        query = select(BranchRow).where(BranchRow.session_id == session_row.id,
                                        BranchRow.name == name)
        if lock:
            query = query.with_for_update()  # PostgreSQL row lock; SQLite holds the DB lock
        return db.scalar(query)

    def _branch_names(self, db: DBSession, session_row: SessionRow) -> list[str]:
        return list(db.scalars(select(BranchRow.name).where(
            BranchRow.session_id == session_row.id).order_by(BranchRow.id)))

    def _head_branch(self, db: DBSession, session_row: SessionRow) -> BranchRow:
        return self._head_row(db, session_row, session_row.current_branch, want_branch=True)

    def _head_row(self, db, session_row, branch, want_branch=False):
        branch_row = self._branch_row(db, session_row, branch)
        if branch_row is None:
            known = ", ".join(self._branch_names(db, session_row)) or "none"
            raise NotFound(f"no branch '{branch}' in session '{self.name}' (branches: {known})")
        return branch_row if want_branch else db.get(VersionRow, branch_row.head_id)

    def _version_row(self, db: DBSession, session_row: SessionRow,
                     version_id: int | str) -> VersionRow:
        row = db.get(VersionRow, _parse_id(version_id))
        if row is None or row.session_id != session_row.id:
            raise NotFound(f"version {version_id} is not in session '{self.name}'")
        return row

    def _to_version(self, db: DBSession, row: VersionRow) -> Version:
        names = tuple(db.scalars(select(BranchRow.name).where(
            BranchRow.head_id == row.id).order_by(BranchRow.id)))
        return self._from_columns([getattr(row, name) for name in _VERSION_COLUMNS], names)

    def _from_columns(self, values, branches) -> Version:
        data = dict(zip(_VERSION_COLUMNS, values))
        data["created_at"] = _aware(data["created_at"])
        data["args"] = data["args"] or {}
        return Version(session=self.name, branches=tuple(branches), **data)

    def _to_asset(self, row: AssetRow) -> Asset:
        return Asset(row.id, self.name, row.kind, row.name, row.image_sha256, row.width, row.height)


_VERSION_COLUMNS = (
    "id", "parent_id", "image_sha256", "width", "height", "mode", "tool", "args", "backend",
    "model_id", "seed", "steps", "duration_s", "instruction", "created_at",
)


def _parse_id(version_id: int | str) -> int:
    text = str(version_id).strip().lstrip("@v")
    if not text.isdigit():
        raise NotFound(f"'{version_id}' is not a version id (versions are numbers, e.g. 3)")
    return int(text)


def _check_branch_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200 or any(ch.isspace() for ch in name):
        raise StorageError(f"'{name}' is not a valid branch name (no spaces, 1-200 characters)")
    return name
