"""A standard DICOMweb client (dicomweb-client, from the Imaging Data Commons) against renkei:
store, search at three levels, metadata, retrieve, frames, rendered. Run by tests/dicomweb.rs
as `python3 dicomweb_interop.py BASE_URL TOKEN CT_FILE MR_FILE`; prints `ok` at the end."""

import io
import sys

import pydicom
from dicomweb_client.api import DICOMwebClient
from PIL import Image

base, token, ct_path, mr_path = sys.argv[1:5]
client = DICOMwebClient(url=base + "/dicomweb", headers={"Authorization": "Bearer " + token})
original = pydicom.dcmread(ct_path)

stored = client.store_instances(datasets=[original, pydicom.dcmread(mr_path)])
assert len(stored.ReferencedSOPSequence) == 2, stored

studies = client.search_for_studies(search_filters={"ModalitiesInStudy": "CT"})
assert len(studies) == 1, studies
study = pydicom.Dataset.from_json(studies[0])
assert study.PatientName == "ANONYMOUS", study.PatientName
assert str(study.PatientID) == "".join(c for c in str(original.PatientID) if c.isdigit())[-4:]
assert int(study.NumberOfStudyRelatedInstances) == 1
series = [pydicom.Dataset.from_json(s) for s in client.search_for_series(study.StudyInstanceUID)]
assert [s.Modality for s in series] == ["CT"], series
instances = client.search_for_instances(
    study.StudyInstanceUID, series[0].SeriesInstanceUID, search_filters={"InstanceNumber": "1"}
)
instance = pydicom.Dataset.from_json(instances[0])
uids = (study.StudyInstanceUID, series[0].SeriesInstanceUID, instance.SOPInstanceUID)

metadata = client.retrieve_study_metadata(study.StudyInstanceUID)
described = pydicom.Dataset.from_json(metadata[0])
assert described.Rows == original.Rows and described.SOPInstanceUID == instance.SOPInstanceUID

retrieved = client.retrieve_instance(*uids)
assert retrieved.PatientName == "ANONYMOUS"
assert retrieved.PixelData == original.PixelData, "pixel data unchanged"
assert len(client.retrieve_study(study.StudyInstanceUID)) == 1
assert len(client.retrieve_series(study.StudyInstanceUID, series[0].SeriesInstanceUID)) == 1

frames = client.retrieve_instance_frames(*uids, frame_numbers=[1])
assert frames[0] == original.PixelData, "frame 1 is the native pixel data"

png = client.retrieve_instance_frames_rendered(*uids, frame_numbers=[1], media_types=("image/png",))
assert Image.open(io.BytesIO(png)).size == (128, 128)
jpeg = client.retrieve_instance_rendered(*uids, media_types=("image/jpeg",), params={"viewport": "64,64"})
assert Image.open(io.BytesIO(jpeg)).size == (64, 64)
print("ok")
