"""Weight-free quality benchmark: tiny diffusion models trained on code-made scenes measure what FreeInit
and noise warping do to generated videos, through the same ``kernels/`` functions the nodes call.

Run it with ``python benchmarks/quality/run.py``; ``tests/test_quality_benchmark.py`` runs a reduced version.
The pack is imported as ``temporal_noise`` (the repository root must be on ``sys.path``).
"""

from standalone import load_pack

load_pack()
