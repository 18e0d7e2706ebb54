"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio, calib-rover); the value is the lower bound of a one-sided
95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.994,  # 465/465
    "example": 0.983,  # 262/263
    "unique_operation": 0.97,  # 195/197
    "stop": 1.0,  # 185/187
    "device_and_value": 0.969,  # 139/140
    "device_only": 0.977,  # 117/117
    "value_only": 0.665,  # 38/49
    "tie_unexplained": 0.066,  # 6/48
    "colour_as_result": 0.944,  # 46/46
    "tie": 0.123,  # 8/38
    "value_only_unexplained": 0.446,  # 22/38
    "other_thing": 0.086,  # 6/37
    "both_named_unexplained": 0.695,  # 25/30
    "device_only_partly_unexplained": 0.472,  # 17/27
    "unique_operation_partly_unexplained": 0.418,  # 14/24
    "other_value": 0.081,  # 4/23
    "other_operation": 0.372,  # 11/20
    "partial_unexplained": 0.127,  # 5/20
    "other_value_unexplained": 0.0,  # 0/16
    "other_thing_unexplained": 0.045,  # 2/15
    "pronoun": 0.666,  # 13/15
    "unknown_operation_unexplained": 0.241,  # 6/14
    "partial": 0.573,  # 9/11
    "unique_operation_partly": 0.787,  # 10/10
    "operation_only_unexplained": 0.218,  # 4/9
    "other_operation_unexplained": 0.303,  # 5/9
    "device_only_partly": 0.46,  # 6/8
    "low_coverage_unexplained": 0.143,  # 2/5
    "bare_operation": 0.182,  # 2/4
    "pronoun_unexplained": 0.078,  # 1/3
    "operation_only": 0.121,  # 1/2
    "unknown_operation": 0.121,  # 1/2
    "both_named_low_coverage_unexplained": 0.0,  # 0/1
    "both_named_low_coverage": 0.0,  # 0/0
    "low_coverage": 0.0,  # 0/0
}
