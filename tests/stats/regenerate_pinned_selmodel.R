# Re-prints the metafor values pinned in test_analysis_selmodel_hackshaw1998.py (metafor 3.8.1, numDeriv).
#
#   Rscript tests/stats/regenerate_pinned_selmodel.R
#
# Hackshaw et al. (1998): 37 studies of lung cancer and passive smoking (metadat's dat.hackshaw1998, log odds
# ratios), the ML random-effects model, and each parametric selection model fitted twice: with metafor's
# defaults, then again from those estimates with tight numerical settings (integrate()'s rel.tol 1e-10,
# optim's reltol 1e-14), so that the printed values are the maximum of the likelihood to ~1e-8 and not
# metafor's stopping and integration error (see the module text of metareview.stats.selmodel).
suppressMessages({library(metafor); library(metadat)})
res <- rma(yi, vi, data = dat.hackshaw1998, method = "ML")
show <- function(label, r) {
  cat(label, "\n")
  v <- list(beta = c(r$beta), se = r$se, tau2 = r$tau2, se_tau2 = r$se.tau2, delta = r$delta,
            se_delta = r$se.delta, ll = r$ll, LRT = r$LRT, LRTp = r$LRTp, LRT_tau2 = r$LRT.tau2)
  for (n in names(v)) cat(sprintf("  %s = c(%s)\n", n, paste(sprintf("%.10g", v[[n]]), collapse = ", ")))
}
fits <- list(beta = list(), halfnorm = list(), negexp = list(), logistic = list(), power = list(),
             negexp_two_sided = list(alternative = "two.sided"), halfnorm_step = list(steps = 0.05))
for (name in names(fits)) {
  type <- sub("_.*", "", name)
  extra <- fits[[name]]
  r0 <- suppressWarnings(do.call(selmodel, c(list(res, type = type), extra)))
  tight <- list(reltol = 1e-14, maxit = 1000, beta.init = c(r0$beta), tau2.init = r0$tau2,
                delta.init = r0$delta)
  r <- NULL
  for (tol in c(1e-10, 1e-9, 1e-8)) {  # integrate() may call a tighter integral "divergent": loosen
    tight$intCtrl <- list(rel.tol = tol)
    r <- tryCatch(suppressWarnings(do.call(selmodel, c(list(res, type = type, control = tight), extra))),
                  error = function(e) NULL)
    if (!is.null(r)) break
  }
  show(paste0(name, " (defaults)"), r0)
  if (!is.null(r)) show(paste0(name, " (tight, integrate rel.tol = ", tol, ")"), r)
}
