"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio, calib-rover); the value is the lower bound of a one-sided
95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.987,  # 205/205
    "device_and_value": 0.955,  # 58/58
    "value_only": 0.462,  # 31/54
    "example": 0.951,  # 52/52
    "tie": 0.029,  # 3/42
    "device_only": 0.938,  # 41/41
    "unique_operation": 0.938,  # 41/41
    "colour_as_result": 0.917,  # 30/30
    "stop": 1.0,  # 16/17
    "partial": 0.0,  # 0/14
    "other_operation": 0.393,  # 8/13
    "other_value": 0.0,  # 0/12
    "device_only_partly": 0.352,  # 6/10
    "pronoun": 0.504,  # 7/9
    "other_thing": 0.249,  # 4/8
    "low_coverage": 0.078,  # 1/3
    "operation_only": 0.078,  # 1/3
    "unique_operation_partly": 0.078,  # 1/3
    "bare_operation": 0.27,  # 1/1
    "both_named_low_coverage": 0.0,  # 0/1
    "model_only": 0.0,  # 0/0
    "unknown_operation": 0.0,  # 0/0
}
