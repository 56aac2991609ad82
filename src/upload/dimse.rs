//! DICOM C-STORE and C-FIND to a hospital PACS over the DICOM upper layer (`dicom-ul`), the option for a site
//! whose archive speaks only DIMSE. One association per call: C-STORE sends a Part 10 file's data set as it is
//! encoded (its transfer syntax proposed as the only one), and C-FIND at the IMAGE level of the Study Root model
//! lists the SOP Instance UIDs the PACS holds for a study. The command sets are small flat Implicit VR Little
//! Endian data sets, encoded and read here.

use std::time::Duration;

use dicom_ul::ClientAssociationOptions;
use dicom_ul::association::client::ClientAssociation;
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu, PresentationContextResultReason};

use super::transport::{Archive, InstanceRef, StoreOutcome, TransportError};

/// Study Root Query/Retrieve Information Model - FIND.
const STUDY_ROOT_FIND: &str = "1.2.840.10008.5.1.4.1.2.2.1";
/// Implicit VR Little Endian, the transfer syntax of every command set.
const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
const TIMEOUT: Duration = Duration::from_secs(30);

const C_STORE_RQ: u16 = 0x0001;
const C_FIND_RQ: u16 = 0x0020;
/// Command Data Set Type: a data set follows / no data set.
const DATA_SET_PRESENT: u16 = 0x0000;
const NO_DATA_SET: u16 = 0x0101;
const STATUS_SUCCESS: u16 = 0x0000;
const STATUS_PENDING: [u16; 2] = [0xFF00, 0xFF01];
/// C-STORE warning "duplicate SOP instance" some PACSs send for an object they already hold.
const STATUS_DUPLICATE: u16 = 0x0111;

/// A flat data set as read: (tag as `group << 16 | element`, value bytes) in order.
type Elements = Vec<(u32, Vec<u8>)>;

/// A PACS at `dicom://CALLED_AE@host:port`.
pub(super) struct Pacs {
    url: String,
    /// `CALLED_AE@host:port`, as dicom-ul takes it.
    address: String,
    calling_ae_title: String,
}

impl Pacs {
    pub(super) fn new(url: &str, calling_ae_title: &str) -> Result<Pacs, TransportError> {
        let address = url.strip_prefix("dicom://").unwrap_or_default();
        let valid = address
            .split_once('@')
            .is_some_and(|(ae, host)| !ae.is_empty() && ae.len() <= 16 && host.contains(':'));
        if !valid {
            return Err(TransportError::Settings(format!(
                "{url}: a PACS is addressed as dicom://CALLED_AE@host:port"
            )));
        }
        Ok(Pacs {
            url: url.to_owned(),
            address: address.to_owned(),
            calling_ae_title: calling_ae_title.to_owned(),
        })
    }

    fn protocol(&self, detail: impl Into<String>) -> TransportError {
        TransportError::Protocol {
            server: self.url.clone(),
            detail: detail.into(),
        }
    }

    /// Opens an association proposing `abstract_syntax` in `transfer_syntax`; refuses one the PACS rejects.
    fn associate(
        &self,
        abstract_syntax: &str,
        transfer_syntax: &str,
    ) -> Result<(ClientAssociation<std::net::TcpStream>, u8), TransportError> {
        let association = ClientAssociationOptions::new()
            .calling_ae_title(self.calling_ae_title.as_str())
            .with_presentation_context(abstract_syntax, vec![transfer_syntax])
            .connection_timeout(TIMEOUT)
            .read_timeout(TIMEOUT)
            .write_timeout(TIMEOUT)
            .establish_with(&self.address)
            .map_err(|error| self.association_error(&error))?;
        let context = association
            .presentation_contexts()
            .iter()
            .find(|pc| pc.reason == PresentationContextResultReason::Acceptance)
            .map(|pc| pc.id);
        match context {
            Some(id) => Ok((association, id)),
            None => {
                let _ = association.abort();
                Err(TransportError::Refused {
                    server: self.url.clone(),
                    detail: format!("the PACS does not accept {abstract_syntax} in {transfer_syntax}"),
                })
            }
        }
    }

    fn association_error(&self, error: &dicom_ul::association::Error) -> TransportError {
        let detail = error.to_string();
        if detail.contains("reject") {
            // A rejected association is how a PACS says it does not know this AE title.
            TransportError::Refused {
                server: self.url.clone(),
                detail: format!(
                    "association rejected ({detail}); is {} registered?",
                    self.calling_ae_title
                ),
            }
        } else {
            TransportError::Unreachable {
                server: self.url.clone(),
                detail,
            }
        }
    }

    /// Sends a command (and its data set), then reads one response: its command set and any data set.
    fn send_command(
        &self,
        association: &mut ClientAssociation<std::net::TcpStream>,
        context_id: u8,
        command: &[u8],
        data_set: Option<&[u8]>,
    ) -> Result<(), TransportError> {
        let io = |error: std::io::Error| TransportError::Unreachable {
            server: self.url.clone(),
            detail: error.to_string(),
        };
        association
            .send(&Pdu::PData {
                data: vec![PDataValue {
                    presentation_context_id: context_id,
                    value_type: PDataValueType::Command,
                    is_last: true,
                    data: command.to_vec(),
                }],
            })
            .map_err(|error| self.association_error(&error))?;
        if let Some(data_set) = data_set {
            use std::io::Write as _;
            let mut writer = association.send_pdata(context_id);
            writer.write_all(data_set).map_err(io)?;
            writer.finish().map_err(io)?;
        }
        Ok(())
    }

    /// Reads one DIMSE message: the command set and, when one follows, the data set.
    fn receive_message(
        &self,
        association: &mut ClientAssociation<std::net::TcpStream>,
    ) -> Result<(Elements, Option<Elements>), TransportError> {
        let mut command = Vec::new();
        let mut data = Vec::new();
        let mut command_done = false;
        let mut data_done = false;
        loop {
            let pdu = association
                .receive()
                .map_err(|error| self.association_error(&error))?;
            let Pdu::PData { data: values } = pdu else {
                return Err(self.protocol(format!("expected a DIMSE message, got {pdu:?}")));
            };
            for value in values {
                match value.value_type {
                    PDataValueType::Command => {
                        command.extend_from_slice(&value.data);
                        command_done |= value.is_last;
                    }
                    PDataValueType::Data => {
                        data.extend_from_slice(&value.data);
                        data_done |= value.is_last;
                    }
                }
            }
            if command_done {
                let elements =
                    read_elements(&command).ok_or_else(|| self.protocol("unreadable command set"))?;
                let has_data = element_u16(&elements, 0x0000_0800) != Some(NO_DATA_SET);
                if !has_data {
                    return Ok((elements, None));
                }
                if data_done {
                    let data_set =
                        read_elements(&data).ok_or_else(|| self.protocol("unreadable data set"))?;
                    return Ok((elements, Some(data_set)));
                }
            }
        }
    }
}

impl Archive for Pacs {
    fn server(&self) -> &str {
        &self.url
    }

    fn check(&self) -> Result<String, TransportError> {
        let (association, _) = self.associate(STUDY_ROOT_FIND, IMPLICIT_VR_LE)?;
        let _ = association.release();
        Ok(format!("PACS {} (association accepted)", self.address))
    }

    fn store(&self, part10: &[u8]) -> Result<StoreOutcome, TransportError> {
        let (meta, data_set) =
            split_part10(part10).ok_or_else(|| self.protocol("not a DICOM Part 10 file"))?;
        let sop_class = element_text(&meta, 0x0002_0002).unwrap_or_default();
        let sop_instance = element_text(&meta, 0x0002_0003).unwrap_or_default();
        let transfer_syntax = element_text(&meta, 0x0002_0010).unwrap_or_default();
        let (mut association, context_id) = self.associate(&sop_class, &transfer_syntax)?;
        let command = command_set(&[
            (0x0000_0002, Value::Uid(&sop_class)),
            (0x0000_0100, Value::U16(C_STORE_RQ)),
            (0x0000_0110, Value::U16(1)),
            (0x0000_0700, Value::U16(0)),
            (0x0000_0800, Value::U16(DATA_SET_PRESENT)),
            (0x0000_1000, Value::Uid(&sop_instance)),
        ]);
        self.send_command(&mut association, context_id, &command, Some(data_set))?;
        let (response, _) = self.receive_message(&mut association)?;
        let _ = association.release();
        match element_u16(&response, 0x0000_0900) {
            Some(STATUS_SUCCESS) => Ok(StoreOutcome::Stored),
            Some(STATUS_DUPLICATE) => Ok(StoreOutcome::AlreadyStored),
            Some(status) if (0xA700..=0xA7FF).contains(&status) => Err(TransportError::ServerError {
                server: self.url.clone(),
                detail: format!("C-STORE status {status:#06x} (out of resources)"),
            }),
            Some(status) if (0xB000..=0xB0FF).contains(&status) => Ok(StoreOutcome::Stored),
            status => Err(TransportError::Refused {
                server: self.url.clone(),
                detail: format!("C-STORE status {status:?}"),
            }),
        }
    }

    fn study_instances(&self, study_instance_uid: &str) -> Result<Vec<String>, TransportError> {
        let (mut association, context_id) = self.associate(STUDY_ROOT_FIND, IMPLICIT_VR_LE)?;
        let command = command_set(&[
            (0x0000_0002, Value::Uid(STUDY_ROOT_FIND)),
            (0x0000_0100, Value::U16(C_FIND_RQ)),
            (0x0000_0110, Value::U16(1)),
            (0x0000_0700, Value::U16(0)),
            (0x0000_0800, Value::U16(DATA_SET_PRESENT)),
        ]);
        let identifier = encode_elements(&[
            (0x0008_0018, Value::Uid("")),
            (0x0008_0052, Value::Text("IMAGE")),
            (0x0020_000D, Value::Uid(study_instance_uid)),
            (0x0020_000E, Value::Uid("")),
        ]);
        self.send_command(&mut association, context_id, &command, Some(&identifier))?;
        let mut uids = Vec::new();
        loop {
            let (response, data_set) = self.receive_message(&mut association)?;
            match element_u16(&response, 0x0000_0900) {
                Some(status) if STATUS_PENDING.contains(&status) => {
                    if let Some(uid) = data_set.as_deref().and_then(|d| element_text(d, 0x0008_0018)) {
                        uids.push(uid);
                    }
                }
                Some(STATUS_SUCCESS) => break,
                status => {
                    let _ = association.abort();
                    return Err(TransportError::Refused {
                        server: self.url.clone(),
                        detail: format!("C-FIND status {status:?}"),
                    });
                }
            }
        }
        let _ = association.release();
        Ok(uids)
    }

    fn case_file_sha256(&self, _instance: &InstanceRef<'_>) -> Result<Option<String>, TransportError> {
        // A PACS answers C-FIND for standard keys only; the instance's UID stands for its content.
        Ok(None)
    }
}

/// A value of a flat Implicit VR Little Endian element.
enum Value<'a> {
    U16(u16),
    /// A UID (padded with NUL to even length).
    Uid(&'a str),
    /// Text (padded with a space to even length).
    Text(&'a str),
}

fn encode_elements(elements: &[(u32, Value<'_>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, value) in elements {
        let bytes = match value {
            Value::U16(v) => v.to_le_bytes().to_vec(),
            Value::Uid(text) | Value::Text(text) => {
                let mut bytes = text.as_bytes().to_vec();
                if bytes.len() % 2 == 1 {
                    bytes.push(if matches!(value, Value::Uid(_)) { 0 } else { b' ' });
                }
                bytes
            }
        };
        out.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
        out.extend_from_slice(&((tag & 0xFFFF) as u16).to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// A command set: the elements preceded by their Command Group Length (0000,0000).
fn command_set(elements: &[(u32, Value<'_>)]) -> Vec<u8> {
    let body = encode_elements(elements);
    // (0000,0000) UL, 4 bytes: the length of the rest.
    let mut out = vec![0, 0, 0, 0, 4, 0, 0, 0];
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads a flat Implicit VR Little Endian data set (no sequences of undefined length) as (tag, value) pairs.
fn read_elements(mut bytes: &[u8]) -> Option<Elements> {
    let mut elements = Vec::new();
    while !bytes.is_empty() {
        let header: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
        let group = u16::from_le_bytes([header[0], header[1]]);
        let element = u16::from_le_bytes([header[2], header[3]]);
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let value = bytes.get(8..8usize.checked_add(len)?)?;
        elements.push(((u32::from(group) << 16) | u32::from(element), value.to_vec()));
        bytes = &bytes[8 + len..];
    }
    Some(elements)
}

fn element_u16(elements: &[(u32, Vec<u8>)], tag: u32) -> Option<u16> {
    let (_, value) = elements.iter().find(|(t, _)| *t == tag)?;
    Some(u16::from_le_bytes(value.get(..2)?.try_into().ok()?))
}

fn element_text(elements: &[(u32, Vec<u8>)], tag: u32) -> Option<String> {
    let (_, value) = elements.iter().find(|(t, _)| *t == tag)?;
    let text = String::from_utf8_lossy(value);
    Some(text.trim_end_matches(['\0', ' ']).to_owned())
}

/// Splits a Part 10 file into its file meta elements and the encoded data set that follows them. The meta group
/// is Explicit VR Little Endian; its group length says where the data set starts.
fn split_part10(part10: &[u8]) -> Option<(Elements, &[u8])> {
    if part10.get(128..132)? != b"DICM" {
        return None;
    }
    let mut at = 132;
    let mut meta = Vec::new();
    let mut end = usize::MAX;
    while at < end.min(part10.len()) {
        let header = part10.get(at..at + 8)?;
        let group = u16::from_le_bytes([header[0], header[1]]);
        if group != 0x0002 {
            break;
        }
        let element = u16::from_le_bytes([header[2], header[3]]);
        let vr = &header[4..6];
        let (len, value_at) = if matches!(vr, b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN") {
            let len = u32::from_le_bytes(part10.get(at + 8..at + 12)?.try_into().ok()?) as usize;
            (len, at + 12)
        } else {
            (usize::from(u16::from_le_bytes([header[6], header[7]])), at + 8)
        };
        let value = part10.get(value_at..value_at.checked_add(len)?)?;
        if element == 0 {
            end = value_at + len + u32::from_le_bytes(value.try_into().ok()?) as usize;
        }
        meta.push(((u32::from(group) << 16) | u32::from(element), value.to_vec()));
        at = value_at + len;
    }
    Some((meta, part10.get(at..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_sets_read_back_and_carry_their_group_length() {
        let command = command_set(&[
            (0x0000_0100, Value::U16(C_STORE_RQ)),
            (0x0000_1000, Value::Uid("1.2.3")),
        ]);
        let elements = read_elements(&command).unwrap();
        assert_eq!(elements[0].0, 0);
        assert_eq!(
            u32::from_le_bytes(elements[0].1.clone().try_into().unwrap()) as usize,
            command.len() - 12
        );
        assert_eq!(element_u16(&elements, 0x0000_0100), Some(C_STORE_RQ));
        assert_eq!(element_text(&elements, 0x0000_1000).as_deref(), Some("1.2.3"));
        assert!(read_elements(&command[..command.len() - 1]).is_none());
    }

    #[test]
    fn pacs_addresses_need_an_ae_title_and_a_port() {
        assert!(Pacs::new("dicom://ORTHANC@127.0.0.1:4242", "HERACLES").is_ok());
        for url in [
            "dicom://127.0.0.1:4242",
            "http://ORTHANC@x:1",
            "dicom://ORTHANC@host",
        ] {
            assert!(Pacs::new(url, "HERACLES").is_err(), "{url}");
        }
    }
}
