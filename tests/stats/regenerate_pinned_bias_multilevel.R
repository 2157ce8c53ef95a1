# Prints the metafor values pinned (to 4 decimals) in the bias and multilevel analysis tests:
# test_analysis_bcg_bias.py, test_analysis_magnesium_egger2001.py, test_analysis_dorn2007.py,
# test_analysis_hackshaw1998.py and test_analysis_konstantopoulos2011.py (each section names its file;
# each line names the metafor call, as the comment beside the pinned value does).
# Run: Rscript tests/stats/regenerate_pinned_bias_multilevel.R   (metafor 3.8.1 + metadat; default controls)
suppressMessages({library(metafor); library(metadat)})
show <- function(label, x, digits = 4) {
  cat(sprintf("%-46s %s\n", label, paste(sprintf(paste0("%.", digits, "f"), x), collapse = " ")))
}
egger <- function(label, r) show(label, c(r$zval, r$pval, r$est, r$ci.lb, r$ci.ub))
filled <- function(label, tf) {
  cat(sprintf("%-46s k0 = %d, side = %s\n", label, tf$k0, tf$side))
  show(paste(label, "se.k0 b se ci.lb ci.ub tau2 QE"), c(tf$se.k0, tf$b, tf$se, tf$ci.lb, tf$ci.ub, tf$tau2, tf$QE))
}

cat("## test_analysis_bcg_bias.py: dat.bcg, res <- rma(yi, vi)\n")
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
res <- rma(yi, vi, data = bcg)
egger("regtest(res): z p limit ci", regtest(res))
r <- regtest(res, model = "lm")
show("regtest(res, model='lm'): t p limit ci", c(r$zval, r$pval, r$est, r$ci.lb, r$ci.ub))
ni <- with(dat.bcg, tpos + tneg + cpos + cneg)
for (p in c("vi", "ni", "ninv", "sqrtni", "sqrtninv")) {
  r <- regtest(res, predictor = p, ni = ni)
  show(paste0("regtest(res, predictor='", p, "'): z p limit"), c(r$zval, r$pval, if (is.null(r$est)) NA else r$est))
}
r <- regtest(res, model = "lm", predictor = "sqrtninv", ni = ni)
show("regtest(model='lm', 'sqrtninv'): t limit", c(r$zval, r$est))
r <- ranktest(res)
show("ranktest(res): tau p", c(r$tau, r$pval))
filled("trimfill(res)", trimfill(res))
ee <- rma(yi, vi, data = bcg, method = "EE")
tf <- trimfill(ee)
filled("trimfill(EE) [help(trimfill)]", tf)
show("trimfill(EE) filled yi", tail(tf$yi, tf$k0))
show("trimfill(EE) filled vi", tail(tf$vi, tf$k0))
tf <- trimfill(ee, estimator = "R0")
cat(sprintf("%-46s k0 = %d\n", "trimfill(EE, estimator='R0')", tf$k0))
show("trimfill(EE, estimator='R0') se.k0 p.k0", c(tf$se.k0, tf$p.k0), digits = 6)
l <- leave1out(res)
for (col in c("estimate", "se", "tau2", "I2", "Q")) show(paste("leave1out(res)", col), l[[col]])
show("leave1out(res) pval[8]", l$pval[8], digits = 6)
inf <- influence(res)
for (col in c("rstudent", "dffits", "cook.d", "cov.r", "hat")) show(paste("influence(res)", col), inf$inf[[col]])
show("influence(res) dfbetas", inf$dfbs$intrcpt)
cat(sprintf("%-46s %d\n", "influence(res): studies flagged", sum(inf$is.infl)))
kt <- suppressWarnings(cor.test(1:6, c(1, 1, 2, 3, 3, 2), method = "kendall", exact = FALSE, continuity = FALSE))
show("R cor.test(kendall, ties): tau-b z p", c(kt$estimate, kt$statistic, kt$p.value), digits = 6)

cat("## test_analysis_magnesium_egger2001.py: dat.egger2001, escalc('OR')\n")
mg <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
show("escalc('OR') yi vi of trial 8 (Bertschat 1989)", c(mg$yi[8], mg$vi[8]))
for (sub in list(all16 = 1:16, without_isis4 = -16)) {
  tag <- if (length(sub) == 16) "all 16:" else "-16 (no ISIS-4):"
  ee <- rma(yi, vi, data = mg, subset = sub, method = "EE")
  re <- rma(yi, vi, data = mg, subset = sub)
  r <- regtest(ee, model = "lm")
  show(paste(tag, "regtest(EE, model='lm') t p limit ci"), c(r$zval, r$pval, r$est, r$ci.lb, r$ci.ub))
  cat(sprintf("%-46s %s\n", paste(tag, "regtest(EE, model='lm') p"), format(r$pval, digits = 2)))
  r <- regtest(ee)
  show(paste(tag, "regtest(EE) z limit"), c(r$zval, r$est))
  egger(paste(tag, "regtest(REML) z p limit ci"), regtest(re))
  filled(paste(tag, "trimfill(REML)"), trimfill(re))
  filled(paste(tag, "trimfill(EE)"), trimfill(ee))
  r <- ranktest(ee)
  show(paste(tag, "ranktest tau p"), c(r$tau, r$pval))
}

cat("## test_analysis_dorn2007.py: dat.dorn2007, escalc('RR')\n")
dd <- escalc(measure = "RR", ai = x.a, n1i = n.a, ci = x.p, n2i = n.p, data = dat.dorn2007)
t1 <- tes(yi, vi, data = dd, test = "chi2")
cat(sprintf("%-46s k = %d, O = %d\n", "tes(yi, vi, test='chi2')", t1$k, t1$O))
show("tes(test='chi2') E ratio X2 p theta theta.lim", c(t1$E, t1$OEratio, t1$X2, t1$pval, t1$theta, t1$theta.lim))
t2 <- tes(yi, vi, data = dd)
cat(sprintf("%-46s %s\n", "tes(yi, vi): test", t2$test))
show("tes(yi, vi) p theta.lim", c(t2$pval, t2$theta.lim))
show("tes(yi, vi, test='binom') p", tes(yi, vi, data = dd, test = "binom")$pval)
t4 <- tes(rma(yi, vi, data = dd))
show("tes(rma(yi, vi)) theta E p theta.lim", c(t4$theta, t4$E, t4$pval, t4$theta.lim))
show("quantile(tes(rma(yi, vi))$power)", quantile(t4$power), digits = 6)

cat("## test_analysis_hackshaw1998.py: dat.hackshaw1998, yi and vi from the OR and its 95% CI\n")
hs <- within(dat.hackshaw1998, {
  yi <- log(or)
  vi <- ((log(or.ub) - log(or.lb)) / (2 * qnorm(0.975)))^2
})
show("vi[1]", hs$vi[1])
ee <- rma(yi, vi, data = hs, method = "EE")
tf <- trimfill(ee)
filled("trimfill(rma(yi, vi, method='EE'))", tf)
show("  exp(b)", exp(tf$b))
filled("trimfill(rma(yi, vi))", trimfill(rma(yi, vi, data = hs)))
tf <- trimfill(ee, estimator = "R0")
cat(sprintf("%-46s k0 = %d\n", "trimfill(EE, estimator='R0')", tf$k0))
show("trimfill(EE, estimator='R0') se.k0 p.k0", c(tf$se.k0, tf$p.k0), digits = 6)
r <- regtest(ee, model = "lm")
show("regtest(EE, model='lm') t p", c(r$zval, r$pval))

cat("## test_analysis_konstantopoulos2011.py: dat.konstantopoulos2011, random = ~ 1 | district/school\n")
dk <- dat.konstantopoulos2011
i2 <- function(fit) {  # the multilevel I^2 of the metafor FAQ
  W <- diag(1 / fit$vi)
  X <- model.matrix(fit)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  typical <- (fit$k - fit$p) / sum(diag(P))
  100 * c(sum(fit$sigma2), fit$sigma2) / (sum(fit$sigma2) + typical)
}
res <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dk)
show("REML sigma2 b se z p ci QE", c(res$sigma2, res$b, res$se, res$zval, res$pval, res$ci.lb, res$ci.ub, res$QE))
show("REML fitstats: logLik deviance AIC BIC AICc", fitstats(res)[, 1])
show("REML I2 total, district, school (FAQ)", i2(res))
p <- predict(res)
show("REML predict(res) pi.lb pi.ub", c(p$pi.lb, p$pi.ub))
ml <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dk, method = "ML")
show("ML sigma2 b se", c(ml$sigma2, ml$b, ml$se))
show("ML fitstats: logLik deviance BIC", fitstats(ml)[c(1, 2, 4), 1])
yr <- rma.mv(yi, vi, mods = ~ I(year - mean(year)), random = ~ 1 | district/school, data = dk,
             method = "ML", test = "t")
show("ML t ~ I(year - mean(year)): sigma2 b", c(yr$sigma2, yr$b))
show("  se[2] pval[1] ci.lb[1] QE QM QMp", c(yr$se[2], yr$pval[1], yr$ci.lb[1], yr$QE, yr$QM, yr$QMp))
