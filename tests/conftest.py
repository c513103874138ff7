"""Every test process keeps its default data home (the default run store's folder) in a
throwaway folder, never the user's: a server built without a `database_url` must not write
to ~/.local/share."""

from __future__ import annotations

import os
import tempfile

_DATA_HOME = tempfile.TemporaryDirectory(prefix="bsa-judge-tests-data-")
os.environ["XDG_DATA_HOME"] = _DATA_HOME.name
