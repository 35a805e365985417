"""FreeInit (Wu et al. 2023, Sec. 3.3 and Algorithm 1): re-sample a video from noise that keeps the low
spatio-temporal frequencies of the previous pass.

* ``lowpass``: the gaussian, butterworth, ideal and box filters H(f_t, f_h, f_w) (Sec. 3.3).
* ``diffusion``: forward diffusion of a result to a noise level, per model parametrisation, and the noise a
  ComfyUI sampler needs to start from that state.
* ``spectral_mix``: the reinitialisation z' = F⁻¹(F(z)·H + F(η)·(1 − H)) (Eq. 7-8).
* ``passes``: the outer loop (Algorithm 1): seeds, coarse-to-fine step counts, one reinitialisation.
"""
