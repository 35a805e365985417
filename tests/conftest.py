"""Load the pack under the name ``temporal_noise`` so tests import ``temporal_noise.kernels`` etc."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from standalone import load_pack  # noqa: E402

load_pack()
