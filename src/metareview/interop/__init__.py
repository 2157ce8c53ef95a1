"""Round trips with the tools reviewers already use: screening decisions out (RIS with ASReview's
labels, CSV, XLSX) and back in, matched by DOI, PMID or normalised title + year."""
