"""Data bundled with the grader: the MNIST 4-vs-9 splits used to train and test P5 losses."""
