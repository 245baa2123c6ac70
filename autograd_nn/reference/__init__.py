"""The five reference networks of docs/reference-networks.md, each written twice.

For every network R1..R5 the module ``rN`` holds the hand-derived numpy implementation exactly
as specified and the same network built from autograd_nn's ops and modules (a forward pass
only: its gradients come from the graph), plus ``train_side_by_side(...)``, which trains both
and returns a printable `ReferenceReport`.
"""
