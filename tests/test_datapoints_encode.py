"""The numpy protobuf encoder writes exactly the bytes the SDK's generated messages serialize."""

from __future__ import annotations

import numpy as np
import pytest
from cognite.client._proto.data_points_pb2 import NumericDatapoint, NumericDatapoints

from emulator.resources.datapoints.encode import numeric_points_bytes


@pytest.mark.parametrize(
    "timestamps",
    [
        [1767225600000, 1767225600001, 1767225660000],  # one varint width: the fixed-width path
        [-2208988800000, -1, 0, 1, 127, 128, 16383, 16384, 1767225600000, 4102444799999],  # mixed widths
        [],
    ],
)
def test_same_bytes_as_the_generated_message(timestamps: list[int]) -> None:
    ts = np.asarray(timestamps, dtype=np.int64)
    values = np.asarray([0.5 * i - 3.25 for i in range(ts.size)], dtype=np.float64)
    message = NumericDatapoints(
        datapoints=[
            NumericDatapoint(timestamp=t, value=v) for t, v in zip(ts.tolist(), values.tolist(), strict=True)
        ]
    )
    encoded = numeric_points_bytes(ts, values)
    assert NumericDatapoints.FromString(encoded) == message
    if 0 not in timestamps:  # protobuf leaves zeros out; the encoder writes them (the same message)
        assert encoded == message.SerializeToString()
