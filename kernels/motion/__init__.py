"""Motion for noise warping: the FLOW of a video and the maps the warp kernels take.

* ``flow_maps``: the coordinate convention, flows to backward maps, bilinear sampling, occlusion from
  forward-backward disagreement, resizing flows.
* ``flow_sequence``: a video's forward and backward flows, composed over several frames; dense, or per-frame
  affine transforms (``affine_steps``: composed, inverted and rasterised on any grid).
* ``optical_flow``: flow from frames with OpenCV (DIS, Farnebäck); ``camera_motion``: analytic pan, zoom
  and rotation.
"""
