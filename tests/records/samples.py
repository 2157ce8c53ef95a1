# ruff: noqa: E501, W291
"""Small hand-written export files (invented records in the real formats) for the reader tests."""

from __future__ import annotations

MEDLINE = """\
PMID- 31000001
OWN - NLM
STAT- MEDLINE
DP  - 2019 Mar 14
TI  - Guided internet-delivered cognitive behavioural therapy for depression: a
      randomised controlled trial in primary care.
PG  - 211-9
LID - 10.1000/JDEP.2019.0042 [doi]
AB  - BACKGROUND: Guided self-help may be as effective as face-to-face therapy.
      METHODS: We randomised 240 adults. RESULTS: Symptoms fell more with
      guidance.
FAU - Lindqvist, Anna M
AU  - Lindqvist AM
FAU - O'Brien, Kevin
AU  - O'Brien K
LA  - eng
PT  - Journal Article
PT  - Randomized Controlled Trial
TA  - J Depress Res
JT  - Journal of depression research
VI  - 12
IP  - 3
MH  - Depression/*therapy
MH  - Internet-Based Intervention
OT  - guided self-help
AID - 10.1000/JDEP.2019.0042 [doi]
AID - S0000-0000(19)00042-1 [pii]
SO  - J Depress Res. 2019 Mar 14;12(3):211-9. doi: 10.1000/JDEP.2019.0042.

PMID- 31000002
DP  - 2020
TI  - Smartphone coaching for stress in university students.
FAU - Nakamura, Yui
LA  - eng
PT  - Journal Article
TA  - Stress Health
VI  - 36
PG  - 45-52
SO  - Stress Health. 2020;36:45-52.
"""

PUBMED_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">32000001</PMID>
    <Article PubModel="Print">
      <Journal>
        <JournalIssue CitedMedium="Internet">
          <Volume>8</Volume><Issue>2</Issue>
          <PubDate><Year>2021</Year><Month>Feb</Month></PubDate>
        </JournalIssue>
        <Title>Internet interventions</Title>
        <ISOAbbreviation>Internet Interv</ISOAbbreviation>
      </Journal>
      <ArticleTitle>Human support in <i>digital</i> interventions for anxiety: a meta-analysis.</ArticleTitle>
      <Pagination><MedlinePgn>100-112</MedlinePgn></Pagination>
      <ELocationID EIdType="doi" ValidYN="Y">10.1000/ii.2021.100</ELocationID>
      <Abstract>
        <AbstractText Label="OBJECTIVE">To compare guided and unguided programmes.</AbstractText>
        <AbstractText Label="RESULTS">Guided programmes had larger effects (g = 0.6).</AbstractText>
      </Abstract>
      <AuthorList CompleteYN="Y">
        <Author ValidYN="Y"><LastName>Okafor</LastName><ForeName>Chidi</ForeName><Initials>C</Initials></Author>
        <Author ValidYN="Y"><CollectiveName>Digital Health Study Group</CollectiveName></Author>
      </AuthorList>
      <Language>eng</Language>
      <PublicationTypeList>
        <PublicationType UI="D016428">Journal Article</PublicationType>
        <PublicationType UI="D017418">Meta-Analysis</PublicationType>
      </PublicationTypeList>
    </Article>
    <MeshHeadingList>
      <MeshHeading><DescriptorName UI="D001008">Anxiety</DescriptorName></MeshHeading>
    </MeshHeadingList>
    <KeywordList Owner="NOTNLM"><Keyword>guided self-help</Keyword></KeywordList>
  </MedlineCitation>
  <PubmedData>
    <ArticleIdList>
      <ArticleId IdType="pubmed">32000001</ArticleId>
      <ArticleId IdType="doi">10.1000/ii.2021.100</ArticleId>
    </ArticleIdList>
  </PubmedData>
</PubmedArticle>
<PubmedArticle>
  <MedlineCitation Status="PubMed-not-MEDLINE" Owner="NLM">
    <PMID Version="1">32000002</PMID>
    <Article PubModel="Electronic">
      <Journal>
        <JournalIssue><Volume>5</Volume><PubDate><MedlineDate>2018 Winter-2019 Spring</MedlineDate></PubDate></JournalIssue>
        <Title>Journal of m&amp;h research</Title>
      </Journal>
      <ArticleTitle>App-based mindfulness with and without a coach.</ArticleTitle>
      <AuthorList><Author><LastName>Silva</LastName><Initials>R</Initials></Author></AuthorList>
      <Language>por</Language>
    </Article>
  </MedlineCitation>
</PubmedArticle>
</PubmedArticleSet>
"""

RIS = """\
TY  - JOUR
TI  - Guided internet-delivered cognitive behavioural therapy for depression
AU  - Lindqvist, Anna M
AU  - O'Brien, Kevin
PY  - 2019
JO  - J Depress Res
VL  - 12
IS  - 3
SP  - 211
EP  - 219
DO  - https://doi.org/10.1000/jdep.2019.0042
AB  - Guided self-help may be as effective as face-to-face therapy.
  We randomised 240 adults.
KW  - depression
KW  - internet
ER  - 

TY  - JOUR
TI  - Smartphone coaching for stress in university students
AU  - Nakamura, Yui
PY  - 2020
T2  - Stress and Health
ER  - 
"""

BIBTEX = """\
@article{lindqvist2019,
  title = {Guided internet-delivered {CBT} for depression in Sk{\\"o}vde},
  author = {Lindqvist, Anna M and O'Brien, Kevin},
  journal = {Journal of Depression Research},
  year = {2019},
  volume = {12},
  number = {3},
  pages = {211--219},
  doi = {10.1000/jdep.2019.0042},
}

@inproceedings{nakamura2020,
  title = {Smartphone coaching for stress},
  author = {Nakamura, Yui},
  booktitle = {Proceedings of Digital Health},
  year = {2020},
}
"""

CSV = """\
Title,Authors,Source title,Year,Volume,Page start,Page end,DOI,PubMed ID,Author Keywords
"Guided internet-delivered CBT, a trial","Lindqvist A.; O'Brien K.",J Depress Res,2019,12,211,219,10.1000/jdep.2019.0042,31000001,depression; internet
Smartphone coaching for stress,Nakamura Y.,Stress and Health,2020,36,45,52,,,
"""
