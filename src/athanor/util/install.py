"""How athanor is installed: the distribution is ``athanor-db`` (the import name is ``athanor``).

The name ``athanor`` on the package index belongs to an unrelated project, so every message
that tells users what to install is built here.
"""

DISTRIBUTION = "athanor-db"


def pip_install(extra: str) -> str:
    """The command that installs athanor with one of its extras (a driver, asyncio)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
