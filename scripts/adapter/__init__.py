"""What scripts/adapter_data.py generates the reading adapter's training requests from: made-up
robots (`world`) and the many voices their requests are said in (`voices`). Libraries, not
scripts: nothing here runs on its own."""
