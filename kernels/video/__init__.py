"""From a video's motion to the noise of a video latent (Deng et al. 2024, Sec. 5).

* ``latent_geometry``: k×k block sums / k to the latent grid, the causal VAE's time stride, degradation.
* ``warped_noise``: the pipeline the Integral Noise Warp node runs: compose the flow over the VAE's time
  step, warp at k× the latent grid, pool to the latent, degrade.
"""
