"""metareview.screening: title/abstract and full-text screening.

Modules:

* ``stages`` — stage and decision names, the protocol's exclusion-reason rules;
* ``decisions`` — votes as append-only events, dual review, conflicts and their resolution, blind mode,
  full-text retrieval, bulk import;
* ``agreement`` — percent agreement, Cohen's and Fleiss' kappa with confidence intervals;
* ``models`` / ``prioritise`` / ``queue`` — rankers registered by name, re-ranking, the next record;
* ``stopping`` / ``stopping_methods`` / ``stopping_rules`` — the hypergeometric stopping rule (Callaghan &
  Müller-Hansen 2020, the default), the target, knee and budget methods (Cormack & Grossman 2016), a
  Poisson-process rule (Sneyd & Stevenson 2021), Quant/QuantCI, the SAFE heuristics, and the protocol's
  choice among them (``[screening.stopping]``);
* ``simulate`` — replay of labelled data sets (WSS@95, WSS@100, ATD, RRF@10, stopping point);
* ``prisma`` — PRISMA 2020 counts from the store, the flow diagram and the PRISMA2020 CSV;
* ``highlight`` — keyword spans for highlighting.

Example::

    from metareview.screening import decisions
    decisions.decide(review, record_id=1, reviewer="ana", decision="include")
"""
