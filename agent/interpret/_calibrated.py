"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio, calib-rover); the value is the lower bound of a one-sided
95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.993,  # 399/399
    "example": 0.987,  # 205/205
    "unique_operation": 0.969,  # 139/140
    "stop": 1.0,  # 108/109
    "device_and_value": 0.956,  # 98/99
    "device_only": 0.962,  # 69/69
    "colour_as_result": 0.944,  # 46/46
    "tie_unexplained": 0.03,  # 3/41
    "value_only": 0.651,  # 31/40
    "value_only_unexplained": 0.448,  # 20/34
    "tie": 0.084,  # 5/30
    "both_named_unexplained": 0.777,  # 22/24
    "other_thing": 0.089,  # 4/21
    "other_value": 0.098,  # 4/19
    "partial_unexplained": 0.069,  # 3/18
    "device_only_partly_unexplained": 0.393,  # 9/15
    "other_value_unexplained": 0.0,  # 0/15
    "other_operation": 0.36,  # 8/14
    "pronoun": 0.601,  # 10/12
    "other_thing_unexplained": 0.021,  # 1/11
    "unique_operation_partly_unexplained": 0.242,  # 5/11
    "operation_only_unexplained": 0.218,  # 4/9
    "unknown_operation_unexplained": 0.161,  # 3/8
    "partial": 0.498,  # 5/6
    "unique_operation_partly": 0.689,  # 6/6
    "bare_operation": 0.182,  # 2/4
    "low_coverage_unexplained": 0.058,  # 1/4
    "other_operation_unexplained": 0.058,  # 1/4
    "device_only_partly": 0.078,  # 1/3
    "pronoun_unexplained": 0.078,  # 1/3
    "operation_only": 0.121,  # 1/2
    "both_named_low_coverage_unexplained": 0.0,  # 0/1
    "unknown_operation": 0.0,  # 0/1
    "both_named_low_coverage": 0.0,  # 0/0
    "low_coverage": 0.0,  # 0/0
    "model_only": 0.0,  # 0/0
}
