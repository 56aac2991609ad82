"""Makes tests/data/dicom/waveform_ecg.dcm from pydicom's test file of the same name (pydicom 3.0.1,
pydicom/data/test_files/waveform_ecg.dcm, MIT licence): the waveforms, channel definitions and annotations are
kept as they are; every patient, visit, institution and staff attribute is removed, so no identifier (real or
not) sits in this repository. Run: $HERACLES_TEST_PYTHON deidentify_waveform_ecg.py OUT.dcm"""

import os
import sys

import pydicom

SOURCE = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files", "waveform_ecg.dcm")
REMOVE = [
    "AccessionNumber", "InstitutionName", "ReferringPhysicianName", "StationName",
    "NameOfPhysiciansReadingStudy", "OperatorsName", "RequestingPhysician", "AdmissionID",
    "CurrentPatientLocation", "PatientInstitutionResidence", "VisitComments", "DeviceSerialNumber",
    "ReasonForTheRequestedProcedure",
]

ds = pydicom.dcmread(SOURCE)
for element in list(ds):
    if element.tag.group in (0x0010, 0x0032, 0x0038) or element.tag.is_private:
        del ds[element.tag]
for keyword in REMOVE:
    if keyword in ds:
        delattr(ds, keyword)
ds.PatientIdentityRemoved = "YES"
ds.save_as(sys.argv[1], enforce_file_format=True)
