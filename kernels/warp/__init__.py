"""Infinite-resolution integral noise warping (Deng et al. 2024) of one noise frame, and of a sequence.

* ``bridge``: the Brownian-bridge split of a source pixel among its targets (Sec. 3-4).
* ``counter_rng``: counter-based normals, the same on every device and in any order.
* ``polygon``: exact areas of back-mapped pixel polygons inside unit cells.
* ``grid``: the grid variant (Sec. 4.1, Algorithm 2); ``particle``: the particle variant (Sec. 4.2,
  Algorithm 3); ``frame``: the warp step they share.
* ``hiwyn``: HIWYN at finite upsampling N (Chang et al. 2024), the reference the grid converges to.
* ``sequence``: frame 0 fresh, frame t the warp of frame t − 1, fresh noise where occluded.
* ``workspace``: reusable scratch buffers of the kernels.
"""
