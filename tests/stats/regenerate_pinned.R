# Prints the metafor values pinned (to 4 decimals) in tests/stats/test_analysis_*.py.
# Run: Rscript tests/stats/regenerate_pinned.R   (metafor 3.8.1 + metadat)
# (The pinned values of the bias and multilevel tests: regenerate_pinned_bias_multilevel.R.)
# metafor's defaults (Fisher scoring threshold 1e-5, as metareview's defaults) except the root-finding
# tolerance of uniroot (PM, Q-profile CI): tol = 1e-12 instead of .Machine$double.eps^0.25, so those
# values are exact to the printed digits (metareview solves these roots to 1e-12).
suppressMessages(library(metafor))
ctrl <- list(tol = 1e-12)
pis <- function(p) c(p$pi.lb, p$pi.ub)
methods <- c("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
show <- function(label, x) cat(sprintf("%-40s %s\n", label, paste(sprintf("%.4f", x), collapse = " ")))
fits <- function(tag, yi, vi) {
  for (m in methods) {
    r <- rma(yi, vi, method = m, control = ctrl)
    show(paste(tag, m, "tau2 est se ci"), c(r$tau2, r$b, r$se, r$ci.lb, r$ci.ub))
    if (m != "EE") show(paste(tag, m, "se_tau2"), r$se.tau2)
  }
  r <- rma(yi, vi, control = ctrl)
  show(paste(tag, "REML Q I2 H2"), c(r$QE, r$I2, r$H2))
  ci <- confint(r, control = list(tol = 1e-12))$random
  show(paste(tag, "REML Q-profile tau2 I2 H2"), c(ci["tau^2", 2:3], ci["I^2(%)", 2:3], ci["H^2", 2:3]))
  show(paste(tag, "REML PI z"), pis(predict(r)))
  show(paste(tag, "REML PI t"), pis(predict(r, pi.type = "t")))
  show(paste(tag, "REML PI riley"), pis(predict(r, pi.type = "riley")))
  k <- rma(yi, vi, test = "knha", control = ctrl)
  show(paste(tag, "REML knha se tval pval ci"), c(k$se, k$zval, k$pval, k$ci.lb, k$ci.ub))
  for (m in c("DL", "PM")) {
    r <- rma(yi, vi, method = m, control = ctrl)
    ci <- confint(r, control = list(tol = 1e-12))$random
    show(paste(tag, m, "Q-profile tau2"), ci["tau^2", 2:3])
  }
}

cat("## dat.bcg (Colditz et al. 1994), log risk ratios\n")
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
fits("bcg", bcg$yi, bcg$vi)
r <- rma(yi, vi, data = bcg, level = 80, test = "knha", method = "PM", control = ctrl)
ci <- confint(r, control = list(tol = 1e-12))$random
show("bcg PM knha level 80: ci, riley PI", c(r$ci.lb, r$ci.ub, pis(predict(r, pi.type = "riley"))))
show("bcg PM knha level 80: tau2 I2 CI", c(ci["tau^2", 2:3], ci["I^2(%)", 2:3]))
r <- rma(yi, vi, mods = ~ ablat, data = bcg, level = 90, control = ctrl)
show("bcg ablat REML level 90 ci.lb ci.ub", c(r$ci.lb, r$ci.ub))
r <- rma(yi, vi, mods = ~ ablat, data = bcg, control = ctrl)
show("bcg ablat REML b se", c(r$b, r$se))
show("bcg ablat REML tau2 QE QM R2 I2", c(r$tau2, r$QE, r$QM, r$R2, r$I2))
r <- rma(yi, vi, mods = ~ ablat, data = bcg, test = "knha", control = ctrl)
show("bcg ablat knha se QM(F) QMp", c(r$se, r$QM, r$QMp))
r <- rma(yi, vi, mods = ~ factor(alloc), data = bcg, control = ctrl)
show("bcg alloc REML b QM QMp tau2", c(r$b, r$QM, r$QMp, r$tau2))
sub <- lapply(split(bcg, bcg$alloc), function(d) rma(yi, vi, data = d, control = ctrl))
b <- sapply(sub, function(r) c(r$b)); se <- sapply(sub, function(r) r$se)
show("bcg alloc subgroups b (alt, rand, syst)", b)
show("bcg alloc subgroups tau2", sapply(sub, function(r) r$tau2))
q <- rma(b, sei = se, method = "EE")
show("bcg alloc Q_between QEp", c(q$QE, q$QEp))

cat("## dat.raudenbush1985 (teacher expectancy, SMD)\n")
fits("raud", dat.raudenbush1985$yi, dat.raudenbush1985$vi)
for (m in c("EE", "ML", "REML", "DL", "HE")) {
  r <- suppressWarnings(rma(yi, vi, data = dat.raudenbush1985, method = m, test = "knha", control = ctrl))
  show(paste("raud knha", m, "se ci"), c(r$se, r$ci.lb, r$ci.ub))
}
d <- dat.raudenbush1985; d$weeks.c <- pmin(d$weeks, 3)
r <- rma(yi, vi, mods = ~ weeks.c, data = d, control = ctrl)
show("raud weeks.c REML b zval QE tau2", c(r$b, r$zval, r$QE, r$tau2))

cat("## dat.collins1985b (diuretics and pre-eclampsia), log odds ratios\n")
col <- escalc(measure = "OR", ai = pre.xti, n1i = pre.nti, ci = pre.xci, n2i = pre.nci, data = dat.collins1985b)
fits("collins", col$yi, col$vi)
