"""The collection's one image-reference parser (plugins/module_utils/image_reference.py), for the builder.

Loaded from its file rather than imported: the builder runs from the checkout, or from the built
collection, with no collection installed, and the parser sits beside it in both. Pure Python, so
loading it needs nothing of Ansible's.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PARSER = Path(__file__).resolve().parents[2] / "plugins" / "module_utils" / "image_reference.py"
_NAME = "airflow_k8s_platform_image_reference"

if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, PARSER)
    _module = importlib.util.module_from_spec(_spec)
    # Registered before it runs: its dataclass looks its own module up by name.
    sys.modules[_NAME] = _module
    _spec.loader.exec_module(_module)

ImageReference = sys.modules[_NAME].ImageReference
ImageReferenceError = sys.modules[_NAME].ImageReferenceError
parse = sys.modules[_NAME].parse
