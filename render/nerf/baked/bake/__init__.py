"""Making a baked NeRF from a trained one: texture, target rays, distillation, evaluation
(``distill.bake_nerf`` is the entry point; ``main.py bake`` and ``bench.nerf_baked`` call it)."""
