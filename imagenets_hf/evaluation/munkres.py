"""The Munkres assignment exactly as the `munkres` package version 1.1.4 runs it.

The official ImageNet-S matching solves its cost matrix with munkres 1.1.4.
Co-occurrence cost matrices have many optimal assignments, and which one comes
out depends on the algorithm's step order and scan order, so this module
follows 1.1.4 step by step (same zero-starring order, same primed-zero search
order, same float operations on the same cost values) while keeping the state
compactly: the reduced matrix in numpy (updated with the same float operations,
in the same order), and its zeros, the covered lines and the rows that still
hold an uncovered zero as Python-int bitsets. Finding the next zero to prime
is then a few word-parallel integer operations instead of an O(n^2) scan.

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
    star_column = _Solver(matrix).solve()
    return [(i, star_column[i]) for i in range(rows) if star_column[i] < columns]


def _bitsets(mask: np.ndarray) -> list[int]:
    """Each row of the 2-D bool array as a Python int whose bit j is mask[row, j]."""
    packed = np.packbits(mask, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def _bools(bits: int, n: int) -> np.ndarray:
    """(n,) bool array of the bitset `bits`."""
    data = np.frombuffer(bits.to_bytes((n + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(data, bitorder="little", count=n).astype(bool)


def _lowest(bits: int) -> int:
    return (bits & -bits).bit_length() - 1


class _Solver:
    def __init__(self, matrix: np.ndarray) -> None:
        self.n = len(matrix)
        self.all_lines = (1 << self.n) - 1
        # step 1: subtract each row's minimum from the row
        self.matrix = matrix - matrix.min(axis=1, keepdims=True)
        self.star_column = [-1] * self.n  # per row
        self.star_row = [-1] * self.n  # per column
        self.prime_column = [-1] * self.n  # per row
        self._update_zeros()

    def _update_zeros(self) -> None:
        zeros = self.matrix == 0
        self.zero_rows = _bitsets(zeros)  # bit j of zero_rows[i]: matrix[i, j] == 0
        self.zero_columns = _bitsets(zeros.T)  # bit i of zero_columns[j]

    def solve(self) -> list[int]:
        # step 2: star, row by row, the first zero whose column holds no star yet
        used = 0
        for i, zeros in enumerate(self.zero_rows):
            free = zeros & ~used
            if free:
                j = _lowest(free)
                self.star_column[i], self.star_row[j] = j, i
                used |= 1 << j
        while True:
            # step 3: cover the starred columns; done when all are covered
            covered = sum(1 << j for j, i in enumerate(self.star_row) if i >= 0)
            if covered == self.all_lines:
                return self.star_column
            self.uncovered_rows = self.all_lines
            self.uncovered_columns = self.all_lines & ~covered
            self._prime_and_augment()

    def _candidates(self) -> int:
        """Bitset of the uncovered rows holding an uncovered zero."""
        columns = self.uncovered_columns
        bits = 0
        for i, zeros in enumerate(self.zero_rows):
            if zeros & columns:
                bits |= 1 << i
        return bits & self.uncovered_rows

    def _prime_and_augment(self) -> None:
        """Steps 4 and 6: prime uncovered zeros, updating the matrix when none is left,
        until a primed zero has no star in its row; then step 5."""
        zero_rows, zero_columns = self.zero_rows, self.zero_columns
        star_column, prime_column = self.star_column, self.prime_column
        candidates = self._candidates()
        row, column = 0, 0
        while True:
            # 1.1.4's search: rows cyclically from `row`; in the first row with an
            # uncovered zero, the LAST one in cyclic column order from `column`
            if not candidates:
                self._update_matrix()  # step 6, then step 4 again from (0, 0)
                zero_rows, zero_columns = self.zero_rows, self.zero_columns
                candidates = self._candidates()
                row, column = 0, 0
                continue
            ahead = candidates >> row
            row = row + _lowest(ahead) if ahead else _lowest(candidates)
            free = zero_rows[row] & self.uncovered_columns
            before = free & ((1 << column) - 1)
            column = (before or free).bit_length() - 1
            prime_column[row] = column
            star = star_column[row]
            if star < 0:
                break
            # cover the row, uncover the star's column: its zeros in uncovered rows join
            self.uncovered_rows &= ~(1 << row)
            self.uncovered_columns |= 1 << star
            candidates = (candidates | zero_columns[star]) & self.uncovered_rows
            column = star
        self._augment(row, column)

    def _augment(self, row: int, column: int) -> None:
        """Step 5: from the last prime, alternate stars (in its column) and primes (in
        their row); unstar the stars, star the primes, erase all primes."""
        path = [(row, column)]
        while True:
            star_row = self.star_row[path[-1][1]]
            if star_row < 0:
                break
            path.append((star_row, path[-1][1]))
            path.append((star_row, self.prime_column[star_row]))
        for i, j in path[1::2]:
            self.star_column[i], self.star_row[j] = -1, -1
        for i, j in path[0::2]:
            self.star_column[i], self.star_row[j] = j, i
        self.prime_column = [-1] * self.n

    def _update_matrix(self) -> None:
        """Step 6: add the smallest uncovered value to covered rows, then subtract it from
        uncovered columns (both, in that order, on covered-row/uncovered-column cells)."""
        uncovered_rows = _bools(self.uncovered_rows, self.n)
        uncovered_columns = _bools(self.uncovered_columns, self.n)
        smallest = self.matrix[np.ix_(uncovered_rows, uncovered_columns)].min()
        self.matrix[~uncovered_rows] += smallest
        self.matrix[:, uncovered_columns] -= smallest
        self._update_zeros()
