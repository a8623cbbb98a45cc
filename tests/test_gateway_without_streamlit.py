"""`gateway/` is free of Streamlit: a script or notebook imports every module of it, and uses the Python API, in a
Python where `import streamlit` fails (a meta-path hook refuses it, as if it were not installed)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.processes  # a child Python: Streamlit may already be imported in this one

CHILD = """
import importlib, pkgutil, sys

class NoStreamlit:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")

sys.meta_path.insert(0, NoStreamlit())
import gateway

modules = [m.name for m in pkgutil.walk_packages(gateway.__path__, "gateway.")
           if ".migrations" not in m.name]  # Alembic's scripts run inside Alembic only
for name in modules:
    importlib.import_module(name)
settings = gateway.load_settings({"LITELLM_ENABLED": "false"}, dotenv_path=None)
catalogue = gateway.fetch_models(settings)
assert catalogue.status == "disabled", catalogue
assert "streamlit" not in sys.modules
print(len(modules), "modules")
"""


def test_every_gateway_module_imports_and_the_python_api_works_without_streamlit():
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[0]) > 40  # every module, not an early exit


def test_the_hook_does_block_streamlit():
    """The test above would pass vacuously if the hook let Streamlit through: here it must refuse it."""
    blocked = CHILD.split("import gateway")[0] + "import streamlit\n"
    done = subprocess.run([sys.executable, "-c", blocked], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "blocked by the test" in done.stderr
