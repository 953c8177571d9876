"""The engines that run the rules: reference (Mesa agents), batched (N x R arrays, numba
passes in ``kernels``), the parameter block both read (``params``), who the employees are
at week 0 (``population``) and the scenario runner (``runner``: prepare, simulate)."""
