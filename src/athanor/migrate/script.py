"""The script directory: ``env.py``, the revision template and the ``versions/`` files, loaded
into a :class:`~athanor.migrate.revision.RevisionMap`; new revision files are written here."""

from __future__ import annotations

import datetime
import importlib.util
import re
import runpy
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from string import Template

from athanor.migrate.config import Config
from athanor.migrate.pysource import string_literal
from athanor.migrate.revision import Revision, RevisionMap, as_tuple
from athanor.migrate.util import CommandError

TEMPLATE_NAME = "script.py.tmpl"
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
_REVISION_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def _literal(values: tuple[str, ...]) -> str:
    """``None``, ``"id"`` or ``("a", "b")`` as Python source."""
    if not values:
        return "None"
    if len(values) == 1:
        return string_literal(values[0])
    return "(" + ", ".join(string_literal(value) for value in values) + ")"


class ScriptDirectory:
    """A migration environment on disk, as ``athanor migrate init`` lays it out."""

    def __init__(
        self,
        dir: str | Path,
        version_locations: Sequence[str | Path] | None = None,
        truncate_slug_length: int = 40,
    ) -> None:
        self.dir = Path(dir)
        if not self.dir.is_dir():
            raise CommandError(
                f"Path doesn't exist: {str(self.dir)!r}; run 'athanor migrate init {self.dir}' "
                "or correct script_location in the ini file"
            )
        self.versions = Path(version_locations[0]) if version_locations else self.dir / "versions"
        self.version_locations = [Path(p) for p in version_locations or [self.versions]]
        self.truncate_slug_length = truncate_slug_length
        self._map: RevisionMap | None = None

    @classmethod
    def from_config(cls, config: Config) -> ScriptDirectory:
        """The script directory ``script_location`` names (relative paths are taken from the
        current directory, then from the ini file's)."""
        location = config.get_main_option("script_location")
        if not location:
            where = config.config_file_name or "the configuration"
            raise CommandError(f"No 'script_location' in [{config.config_ini_section}] of {where}")
        path = Path(location)
        if not path.is_absolute() and not path.exists() and config.config_file_name:
            beside = Path(config.config_file_name).resolve().parent / location
            if beside.exists():
                path = beside
        for entry in reversed((config.get_main_option("prepend_sys_path") or "").split()):
            resolved = str(Path(entry).resolve())
            if resolved not in sys.path:
                sys.path.insert(0, resolved)
        raw_locations = config.get_main_option("version_locations")
        locations = raw_locations.replace(",", " ").split() if raw_locations else None
        return cls(
            path,
            version_locations=locations,
            truncate_slug_length=int(config.get_main_option("truncate_slug_length") or 40),
        )

    # --- revisions --------------------------------------------------------------------------

    @property
    def revision_map(self) -> RevisionMap:
        """All revisions of ``versions/``, loaded on first use."""
        if self._map is None:
            self._map = RevisionMap(self._load())
        return self._map

    def _load(self) -> Iterator[Revision]:
        for location in self.version_locations:
            if not location.is_dir():
                continue
            for path in sorted(location.glob("*.py")):
                if path.name.startswith("_"):
                    continue
                revision = self._load_file(path)
                if revision is not None:
                    yield revision

    def _load_file(self, path: Path) -> Revision | None:
        name = f"athanor_migrate_versions.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            raise CommandError(
                f"Could not load revision file {path}: {type(error).__name__}: {error}"
            ) from error
        if not hasattr(module, "revision"):
            return None
        sys.modules[name] = module
        doc = (module.__doc__ or "").strip().splitlines()
        return Revision(
            revision=str(module.revision),
            down_revisions=as_tuple(getattr(module, "down_revision", None)),
            dependencies=as_tuple(getattr(module, "depends_on", None)),
            branch_labels=frozenset(as_tuple(getattr(module, "branch_labels", None))),
            doc=doc[0] if doc else "",
            path=str(path),
            module=module,
        )

    def get_revision(self, identifier: str) -> Revision:
        """A revision by id, unique prefix or branch label."""
        return self.revision_map.get(identifier)

    def get_heads(self) -> tuple[str, ...]:
        return self.revision_map.heads

    def get_current_head(self) -> str | None:
        """The only head, None if there are no revisions; an error when there are several."""
        heads = self.get_heads()
        if len(heads) > 1:
            raise CommandError(
                f"The script directory has multiple heads ({', '.join(heads)}); name one with "
                "--head, or merge them with 'athanor migrate merge'"
            )
        return heads[0] if heads else None

    def get_bases(self) -> tuple[str, ...]:
        return self.revision_map.bases

    def walk_revisions(self) -> Iterator[Revision]:
        """Every revision, newest first."""
        revisions: list[Revision] = list(self.revision_map)
        return reversed(revisions)

    # --- env.py -----------------------------------------------------------------------------

    @property
    def env_py_location(self) -> Path:
        return self.dir / "env.py"

    def run_env(self) -> None:
        """Run ``env.py``, which configures the context and runs the migrations."""
        path = self.env_py_location
        if not path.is_file():
            raise CommandError(f"No env.py in {self.dir}; run 'athanor migrate init' to create one")
        runpy.run_path(str(path), run_name="athanor_migrate_env")

    # --- new revisions ----------------------------------------------------------------------

    def template_path(self) -> Path:
        """The revision template: the directory's own ``script.py.tmpl`` or the built-in one."""
        own = self.dir / TEMPLATE_NAME
        return own if own.is_file() else PACKAGE_TEMPLATES / TEMPLATE_NAME

    def slug(self, message: str | None) -> str:
        words = re.sub(r"\W+", "_", (message or "").lower()).strip("_")
        return words[: self.truncate_slug_length].rstrip("_")

    def generate_revision(
        self,
        revid: str | None,
        message: str | None,
        head: str | Sequence[str] | None = None,
        splice: bool = False,
        branch_labels: Sequence[str] | None = None,
        depends_on: Sequence[str] | None = None,
        template_args: Mapping[str, str] | None = None,
    ) -> Revision:
        """Write a new revision file on top of ``head`` (default: the single head) and return
        it. ``splice`` allows a parent that is not a head (starting a branch)."""
        revid = revid or uuid.uuid4().hex[-12:]
        if not _REVISION_ID.match(revid):
            raise CommandError(
                f"Revision id {revid!r} may only contain letters, digits, '_', '.' and '-'"
            )
        revision_map = self.revision_map
        if revid in {r.revision for r in revision_map}:
            raise CommandError(f"Revision {revid} already exists")
        parents = self._parents(revision_map, head, splice)
        dependencies = tuple(revision_map.get(d).revision for d in depends_on or ())
        labels = tuple(branch_labels or ())
        args = {
            "message": (message or "").replace("\\", "\\\\").replace('"""', '\\"\\"\\"'),
            "up_revision": revid,
            "down_revision": ", ".join(parents),
            "create_date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "up_revision_literal": string_literal(revid),
            "down_revision_literal": _literal(parents),
            "branch_labels_literal": _literal(labels),
            "depends_on_literal": _literal(dependencies),
            "imports": "import athanor as sa\nfrom athanor.migrate import op",
            "upgrades": "    pass",
            "downgrades": "    pass",
            **(template_args or {}),
        }
        try:
            source = Template(self.template_path().read_text(encoding="utf-8")).substitute(args)
        except (KeyError, ValueError) as error:
            raise CommandError(f"Bad revision template {self.template_path()}: {error}") from None
        source = "\n".join(line.rstrip() for line in source.splitlines()) + "\n"
        self.versions.mkdir(parents=True, exist_ok=True)
        slug = self.slug(message)
        path = self.versions / (f"{revid}_{slug}.py" if slug else f"{revid}_.py")
        path.write_text(source, encoding="utf-8")
        self._map = None
        return self.get_revision(revid)

    @staticmethod
    def _parents(
        revision_map: RevisionMap, head: str | Sequence[str] | None, splice: bool
    ) -> tuple[str, ...]:
        if head is None or head == "head":
            heads = revision_map.heads
            if len(heads) > 1:
                raise CommandError(
                    f"Multiple heads are present ({', '.join(heads)}); pass --head to choose "
                    "one, or merge them first with 'athanor migrate merge'"
                )
            return heads
        if head == "base":
            return ()
        names = [head] if isinstance(head, str) else list(head)
        parents = []
        for name in names:
            if name == "base":
                continue
            target = name[: -len("@head")] if name.endswith("@head") else name
            revision = revision_map.get(target)
            if name.endswith("@head"):
                tops = sorted(
                    revision_map.descendants([revision.revision]) & set(revision_map.heads)
                )
                revision = revision_map.get(tops[0])
            if not revision.is_head and not splice:
                raise CommandError(
                    f"Revision {revision.revision} is not a head; pass --splice to start a "
                    "branch from it"
                )
            parents.append(revision.revision)
        return tuple(parents)
