"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio, calib-rover); the value is the lower bound of a one-sided
95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.993,  # 366/366
    "example": 0.985,  # 183/183
    "unique_operation": 0.964,  # 122/123
    "stop": 1.0,  # 82/83
    "device_and_value": 0.967,  # 80/80
    "device_only": 0.96,  # 65/65
    "colour_as_result": 0.942,  # 44/44
    "value_only": 0.643,  # 30/39
    "tie_unexplained": 0.018,  # 2/37
    "value_only_unexplained": 0.434,  # 19/33
    "tie": 0.066,  # 4/28
    "both_named_unexplained": 0.768,  # 21/23
    "other_operation": 0.496,  # 13/19
    "partial_unexplained": 0.069,  # 3/18
    "other_value": 0.0,  # 0/16
    "other_value_unexplained": 0.0,  # 0/15
    "device_only_partly_unexplained": 0.36,  # 8/14
    "other_thing": 0.096,  # 3/13
    "other_thing_unexplained": 0.021,  # 1/11
    "pronoun": 0.677,  # 10/11
    "partial": 0.652,  # 9/10
    "unique_operation_partly_unexplained": 0.117,  # 2/6
    "operation_only_unexplained": 0.143,  # 2/5
    "unique_operation_partly": 0.649,  # 5/5
    "unknown_operation_unexplained": 0.272,  # 3/5
    "bare_operation": 0.182,  # 2/4
    "low_coverage_unexplained": 0.058,  # 1/4
    "other_operation_unexplained": 0.058,  # 1/4
    "device_only_partly": 0.121,  # 1/2
    "operation_only": 0.121,  # 1/2
    "pronoun_unexplained": 0.0,  # 0/2
    "both_named_low_coverage_unexplained": 0.0,  # 0/1
    "unknown_operation": 0.0,  # 0/1
    "both_named_low_coverage": 0.0,  # 0/0
    "low_coverage": 0.0,  # 0/0
    "model_only": 0.0,  # 0/0
}
