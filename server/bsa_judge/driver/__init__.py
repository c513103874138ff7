"""`bsa-judge run`: the driver of a benchmark run, talking to the server through the client
SDK only (bsa_judge_client).

- `selection`: which items of a dataset a run (and one shard of it) covers;
- `traces`: samples generated elsewhere (`--traces`), read into submitted samples;
- `evaluation`: the run itself: create it, stream its items, resume after a broken stream;
- `progress`: what the user sees meanwhile (a rich bar, or plain lines);
- `outputs`: the output folder: samples, verdicts, official CSV, metrics, plot.
"""
