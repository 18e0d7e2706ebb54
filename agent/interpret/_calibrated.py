"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio); the value is the lower bound of a one-sided 95 % Wilson
interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.987,  # 206/206
    "device_and_value": 0.951,  # 53/53
    "example": 0.95,  # 51/51
    "unique_operation": 0.938,  # 41/41
    "device_only": 0.937,  # 40/40
    "tie": 0.031,  # 3/39
    "value_only": 0.402,  # 16/29
    "stop": 1.0,  # 15/16
    "partial": 0.0,  # 0/12
    "other_operation": 0.315,  # 6/11
    "device_only_partly": 0.352,  # 6/10
    "other_value": 0.0,  # 0/6
    "other_thing": 0.143,  # 2/5
    "pronoun": 0.596,  # 4/4
    "low_coverage": 0.078,  # 1/3
    "operation_only": 0.078,  # 1/3
    "value_as_result": 0.526,  # 3/3
    "unique_operation_partly": 0.121,  # 1/2
    "bare_operation": 0.27,  # 1/1
    "both_named_low_coverage": 0.0,  # 0/1
    "model_only": 0.0,  # 0/0
    "unknown_operation": 0.0,  # 0/0
}
