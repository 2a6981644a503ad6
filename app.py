"""Myeloma Trial Finder — Streamlit app (placeholder list until the patient UI lands)."""
import streamlit as st

from trials.query import TrialQuery
from trials.source import search

st.set_page_config(page_title="Myeloma Trial Finder", page_icon="🔎")
st.title("Myeloma Trial Finder")
result = search(TrialQuery())
st.caption(result.banner)
for study in result.studies:
    st.markdown(f"**{study.nct_id}**")
    st.text(study.title)
