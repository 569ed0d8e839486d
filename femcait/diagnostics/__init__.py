"""The diagnostics layer: derived quantities of the state (front, plateau, balances),
sampled profiles and crater averages, computed by reductions over the ranks."""
