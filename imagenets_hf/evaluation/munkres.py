"""The Munkres assignment exactly as the `munkres` package version 1.1.4 runs it.

The official ImageNet-S matching solves its cost matrix with munkres 1.1.4.
Co-occurrence cost matrices have many optimal assignments, and which one comes
out depends on the algorithm's step order and scan order, so this module
follows 1.1.4 step by step (same zero-starring order, same primed-zero search
order, same float operations on the same cost values) while keeping the state
in numpy arrays: the zeros of the reduced matrix, the number of uncovered zeros
per row, and the star/prime positions per row and column. Each search is then
a few O(n) vector operations instead of an O(n^2) Python scan.

Notes on 1.1.4's behaviour reproduced here (they decide ties):
- step 2 stars, row by row, the first zero whose column has no star yet;
- the zero search starts at (row, column) of the previous prime, walks rows
  cyclically from that row and, in the first row with an uncovered zero,
  returns the LAST uncovered zero in cyclic column order from that column
  (its inner loop does not stop at the first hit); after a matrix update it
  starts again at (0, 0);
- the matrix update adds the minimum to covered rows, then subtracts it from
  uncovered columns (both, in that order, on covered-row/uncovered-column cells).
"""

from __future__ import annotations

import numpy as np


def munkres_assignment(cost) -> list[tuple[int, int]]:
    """Minimum-cost assignment of the (R, C) float cost matrix `cost`, as munkres 1.1.4's
    `Munkres().compute` returns it: a list of (row, column) pairs sorted by row.

    A non-square matrix is padded with zeros to square, as 1.1.4 does.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.size == 0:
        raise ValueError(f"the cost matrix must be a non-empty 2-D array, got shape {cost.shape}")
    if not np.all(np.isfinite(cost)):
        raise ValueError("the cost matrix must hold finite numbers")
    rows, columns = cost.shape
    n = max(rows, columns)
    matrix = np.zeros((n, n), dtype=np.float64)
    matrix[:rows, :columns] = cost
    solver = _Solver(matrix)
    star_column = solver.solve()
    return [(i, int(star_column[i])) for i in range(rows) if star_column[i] < columns]


class _Solver:
    def __init__(self, matrix: np.ndarray) -> None:
        self.n = len(matrix)
        # step 1: subtract each row's minimum from the row
        self.matrix = matrix - matrix.min(axis=1, keepdims=True)
        self.star_column = np.full(self.n, -1, dtype=np.int64)  # per row
        self.star_row = np.full(self.n, -1, dtype=np.int64)  # per column
        self.prime_column = np.full(self.n, -1, dtype=np.int64)  # per row
        self.row_covered = np.zeros(self.n, dtype=bool)
        self.column_covered = np.zeros(self.n, dtype=bool)
        self._update_zeros()

    def _update_zeros(self) -> None:
        self.zeros = self.matrix == 0
        self.zeros_float = self.zeros.astype(np.float32)  # for counting by matrix-vector product

    def _count_uncovered_zeros(self) -> None:
        # exact: counts <= n < 2**24
        self.uncovered_zeros = (self.zeros_float @ (~self.column_covered).astype(np.float32)).astype(np.int64)

    def solve(self) -> np.ndarray:
        n = self.n
        # step 2: star the first zero of each row whose column holds no star yet
        used = np.zeros(n, dtype=bool)
        for i in range(n):
            candidates = np.flatnonzero(self.zeros[i] & ~used)
            if len(candidates):
                j = candidates[0]
                self.star_column[i], self.star_row[j] = j, i
                used[j] = True
        while True:
            # step 3: cover the starred columns; done when all are covered
            self.row_covered[:] = False
            self.column_covered = self.star_row >= 0
            if self.column_covered.sum() >= n:
                return self.star_column
            self._count_uncovered_zeros()
            self._prime_and_augment()

    def _prime_and_augment(self) -> None:
        """Steps 4, 6 and 5: prime uncovered zeros (updating the matrix when none is
        left) until a prime has no star in its row, then augment along the path."""
        row, column = 0, 0
        while True:
            row, column = self._find_zero(row, column)
            if row < 0:
                self._update_matrix()  # step 6, then back to step 4 from (0, 0)
                row, column = 0, 0
                continue
            self.prime_column[row] = column
            star = self.star_column[row]
            if star < 0:
                break
            self.row_covered[row] = True
            self.column_covered[star] = False
            self.uncovered_zeros += self.zeros[:, star]
            column = star
        # step 5: alternate primes and stars from the last prime, then swap them
        path_rows, path_columns = [row], [column]
        while True:
            star_row = self.star_row[path_columns[-1]]
            if star_row < 0:
                break
            path_rows.append(star_row)
            path_columns.append(path_columns[-1])
            path_rows.append(star_row)
            path_columns.append(self.prime_column[star_row])
        for i, j in zip(path_rows[1::2], path_columns[1::2]):  # unstar
            self.star_column[i], self.star_row[j] = -1, -1
        for i, j in zip(path_rows[0::2], path_columns[0::2]):  # star the primes
            self.star_column[i], self.star_row[j] = j, i
        self.prime_column[:] = -1

    def _find_zero(self, first_row: int, first_column: int) -> tuple[int, int]:
        candidates = np.flatnonzero(~self.row_covered & (self.uncovered_zeros > 0))
        if not len(candidates):
            return -1, -1
        at = np.searchsorted(candidates, first_row)
        row = int(candidates[at] if at < len(candidates) else candidates[0])
        columns = np.flatnonzero(self.zeros[row] & ~self.column_covered)
        before = columns[columns < first_column]
        column = int(before[-1] if len(before) else columns[-1])
        return row, column

    def _update_matrix(self) -> None:
        uncovered_rows = ~self.row_covered
        uncovered_columns = ~self.column_covered
        smallest = self.matrix[np.ix_(uncovered_rows, uncovered_columns)].min()
        self.matrix[self.row_covered] += smallest
        self.matrix[:, uncovered_columns] -= smallest
        self._update_zeros()
        self._count_uncovered_zeros()
