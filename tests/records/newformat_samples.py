# ruff: noqa: E501, W291  (vendor export lines are long by nature; RIS ends records with "ER  - ")
"""Hand-written exports of the interop formats, each following its vendor's published field list
(cited per sample). Two records each: a journal article with every common field, and a sparse one."""

# Clarivate, "Web of Science Core Collection: Field Tags" (webofscience.help.clarivate.com, "Field
# tags" page): FN/VR header, PT, AU/AF one per line, TI, SO, LA, DT, DE, ID, AB, PY, VL, IS, BP, EP,
# DI, PM, UT, ER, EF.
WOS_PLAIN = """FN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Smith, J
   Doe, A
AF Smith, John
   Doe, Anna
TI Guided internet therapy for depression: a
   meta-analysis
SO JOURNAL OF AFFECTIVE DISORDERS
LA English
DT Article; Review
DE depression; internet; guidance
AB Human support improves adherence.
PY 2020
VL 12
IS 3
BP 45
EP 67
DI 10.1016/j.jad.2020.01.001
PM 31234567
UT WOS:000123456700001
ER

PT J
AU Lee, K
TI Stress apps
SO COMPUTERS IN HUMAN BEHAVIOR
PY 2019
AR 106001
ER

EF
"""

WOS_TABBED = (
    "PT\tAU\tAF\tTI\tSO\tLA\tDT\tDE\tAB\tPY\tVL\tIS\tBP\tEP\tDI\tPM\tUT\n"
    "J\tSmith, J; Doe, A\tSmith, John; Doe, Anna\tGuided internet therapy for depression\t"
    "JOURNAL OF AFFECTIVE DISORDERS\tEnglish\tArticle\tdepression; internet\tHuman support improves adherence.\t2020\t12\t3\t"
    "45\t67\t10.1016/j.jad.2020.01.001\t31234567\tWOS:000123456700001\n"
    "J\tLee, K\t\tStress apps\tCOMPUTERS IN HUMAN BEHAVIOR\t\t\t\t\t2019\t\t\t\t\t\t\t\n"
)

# Ovid "MEDLINE Database Field Guide" and "APA PsycInfo Database Field Guide" (Wolters Kluwer,
# ovid.com field guides): two-letter labels VN, DB, UI (PMID in MEDLINE), TI, AU, FA, SO, AB, YR, DO,
# PT, LG, MH; records numbered <1>, <2> in text output.
OVID_TAGGED = """<1>
VN  - Ovid Technologies
DB  - Ovid MEDLINE(R) ALL
UI  - 31234567
TI  - Guided internet therapy for depression: a
      meta-analysis.
FA  - Smith, John
FA  - Doe, Anna
AU  - Smith J
AU  - Doe A
SO  - Journal of Affective Disorders. 12(3):45-67, 2020 Mar.
AB  - Human support improves adherence.
YR  - 2020
DO  - https://dx.doi.org/10.1016/j.jad.2020.01.001
PT  - Journal Article
PT  - Meta-Analysis
LG  - English
MH  - Depression/th [Therapy]

<2>
VN  - Ovid Technologies
DB  - APA PsycInfo
UI  - 2019-12345-001
TI  - Stress apps
AU  - Lee, Kim
SO  - Computers in Human Behavior. Vol.98 2019, pp. 1-9.
YR  - 2019
"""

# The same fields in Ovid's "Citation/Abstract" display layout (label alone on a line, value indented).
OVID_DISPLAY = """<1>
Unique Identifier
  31234567
Title
  Guided internet therapy for depression: a meta-analysis.
Authors
  Smith J; Doe A
Source
  Journal of Affective Disorders. 12(3):45-67, 2020 Mar.
Abstract
  Human support improves
  adherence.
Year of Publication
  2020
Digital Object Identifier
  https://dx.doi.org/10.1016/j.jad.2020.01.001
Database
  Ovid MEDLINE(R) ALL

<2>
Unique Identifier
  2019-12345-001
Title
  Stress apps
Authors
  Lee, Kim
Source
  Computers in Human Behavior. Vol.98 2019, pp. 1-9.
Database
  APA PsycInfo
"""

# Cochrane Library, "Exporting search results" (cochranelibrary.com help, CENTRAL plain-text export
# fields): Record #n of N, ID (CN-), AU, TI, SO, YR, VL, NO, PG, XR, PT, KY, DOI, AB, US, PM.
COCHRANE = """Record #1 of 2
ID: CN-01234567
AU: Smith J
AU: Doe A
TI: Guided internet therapy for depression
SO: Journal of affective disorders
YR: 2020
VL: 12
NO: 3
PG: 45-67
XR: EMBASE 2004567890
PT: Journal Article; Randomized Controlled Trial
KY: Depression; Internet
DOI: 10.1016/j.jad.2020.01.001
AB: Human support improves
adherence.
US: https://www.cochranelibrary.com/central/doi/10.1002/central/CN-01234567/full
PM: PUBMED 31234567

Record #2 of 2
ID: CN-07654321
TI: Stress apps
YR: 2019
"""

# EndNote XML as written by EndNote's File > Export > XML (RSXML.dtd element names: record, database,
# ref-type, contributors/authors/author, titles/title, secondary-title, periodical/full-title, pages,
# volume, number, keywords/keyword, dates/year, electronic-resource-num, accession-num, abstract,
# language, remote-database-name), text wrapped in <style> elements.
ENDNOTE_XML = """<?xml version="1.0" encoding="UTF-8" ?><xml><records><record><database name="My Library.enl" path="My Library.enl">My Library.enl</database><source-app name="EndNote" version="20.0">EndNote</source-app><rec-number>1</rec-number><ref-type name="Journal Article">17</ref-type><contributors><authors><author><style face="normal" font="default" size="100%">Smith, John</style></author><author><style face="normal" font="default" size="100%">Doe, Anna</style></author></authors></contributors><titles><title><style face="normal" font="default" size="100%">Guided internet therapy for </style><style face="italic" font="default" size="100%">depression</style></title><secondary-title><style face="normal" font="default" size="100%">Journal of Affective Disorders</style></secondary-title></titles><periodical><full-title>Journal of Affective Disorders</full-title></periodical><pages><style face="normal" font="default" size="100%">45-67</style></pages><volume>12</volume><number>3</number><keywords><keyword>depression</keyword><keyword>internet</keyword></keywords><dates><year><style face="normal" font="default" size="100%">2020</style></year></dates><accession-num>31234567</accession-num><electronic-resource-num>10.1016/j.jad.2020.01.001</electronic-resource-num><abstract>Human support improves adherence.</abstract><remote-database-name>MEDLINE</remote-database-name><language>eng</language></record>
<record><rec-number>2</rec-number><ref-type name="Journal Article">17</ref-type><titles><title>Stress apps</title></titles><dates><year>2019</year></dates><urls><related-urls><url>https://doi.org/10.1016/j.chb.2019.106001</url></related-urls></urls></record></records></xml>
"""

# Embase.com RIS (Export > RIS), laid out as a real Embase.com export (asreview/citation-file-formatting,
# Datasets/RIS/_baseline_embase.ris, commit ecddcce) with the tag meanings reported by bibfix's
# maintainers (nealhaddaway/bibfix issue 25): M3 publication type, UR embase.com address, U2 PUI, C5
# MEDLINE PMID, DB one line per database, L2 full-text (DOI) link, A1 authors, M1 affiliations, KW
# Emtree terms, N2 abstract. Invented records.
EMBASE_RIS = """\
TY  - JOUR
M3  - Article
Y1  - 2019
VL  - 12
IS  - 3
SP  - 211
EP  - 219
SN  - 1234-5678
JF  - Journal of depression research
JO  - J. Depress. Res.
UR  - https://www.embase.com/search/results?subaction=viewrecord&id=L2001234567&from=export
U2  - L2001234567
C5  - 31000001
DB  - Embase
DB  - Medline
U3  - 2019-03-20
U4  - 2019-03-25
L2  - http://dx.doi.org/10.1000/JDEP.2019.0042
DO  - 10.1000/JDEP.2019.0042
LK  - https://resolver.example.org/link?sid=EMBASE&issn=12345678&id=doi:10.1000%2FJDEP.2019.0042
A1  - Lindqvist, A.M.
A1  - O'Brien, K.
M1  - (Lindqvist A.M.) Department of Psychology, Example University, Uppsala, Sweden
T1  - Guided internet-delivered cognitive behavioural therapy for depression: a randomised controlled trial in primary care
LA  - English
KW  - adult
KW  - cognitive behavioral therapy
KW  - depression
KW  - randomized controlled trial
N2  - Guided self-help may be as effective as face-to-face therapy.
ER  - 

TY  - JOUR
M3  - Conference Abstract
Y1  - 2021
VL  - 33
SN  - 8765-4321
JF  - European Psychiatry
JO  - Eur. Psychiatry
UR  - https://www.embase.com/search/results?subaction=viewrecord&id=L635000111&from=export
U2  - L635000111
DB  - Embase
U4  - 2021-06-01
L2  - http://dx.doi.org/10.1000/eurpsy.2021.77
A1  - Nakamura, Y.
T1  - Smartphone coaching for stress in university students: one-year follow-up
LA  - English
KW  - human
KW  - mobile application
KW  - psychological well-being
ER  - 
"""

# Covidence reference export (Export > References, CSV), with the columns of a real export
# (asreview/citation-file-formatting, Datasets/CSV/_baseline_covidence.csv, commit ecddcce).
COVIDENCE_CSV = (
    "Title,Authors,Abstract,Published Year,Published Month,Journal,Volume,Issue,Pages,Accession Number,"
    "DOI,Ref,Covidence #,Study,Notes,Tags\n"
    'Guided internet CBT for depression: a meta-analysis,"Smith, J.; Doe, A.",Guided programmes helped.,'
    '2020,,Journal of Affective Disorders,12,3,45-67,31234567,10.1000/a,,#1,Smith 2020,"",""\n'
    'Unguided apps for anxiety,"Lee, K.",,2019,,Internet Interventions,8,,,,10.1000/b,,#2,Lee 2019,'
    '"Exclusion reason: not a quantitative meta-analysis","Awaiting classification"\n'
)
