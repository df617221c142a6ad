//! Proves an upload is audio by decoding it, whatever its name or declared type says
//! (docs/SOUNDS.md). The container is recognised by its first bytes (a file is audio from its
//! start, so a picture with a stray MPEG sync word inside is not taken for mp3); then every packet
//! is decoded, which gives the true duration even where the header omits it (mp3 without a Xing
//! frame). Decoding stops as soon as the sound is longer than allowed.

use std::io::Cursor;

use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::error::{Error, Result};

/// The containers the platform accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Wav,
    Mp3,
    Ogg,
    Aiff,
    Caf,
}

impl Format {
    /// The file extension, also the `format` column.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Wav => "wav",
            Format::Mp3 => "mp3",
            Format::Ogg => "ogg",
            Format::Aiff => "aiff",
            Format::Caf => "caf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Wav => "audio/wav",
            Format::Mp3 => "audio/mpeg",
            Format::Ogg => "audio/ogg",
            Format::Aiff => "audio/aiff",
            Format::Caf => "audio/x-caf",
        }
    }

    /// Recognises the container by its first bytes: RIFF/WAVE, FORM/AIFF (or AIFC), `caff`,
    /// `OggS`, and mp3 as an ID3v2 tag or an MPEG audio frame sync at offset 0.
    pub fn sniff(b: &[u8]) -> Option<Format> {
        let at = |i: usize, tag: &[u8]| b.get(i..i + tag.len()) == Some(tag);
        if at(0, b"RIFF") && at(8, b"WAVE") {
            Some(Format::Wav)
        } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
            Some(Format::Aiff)
        } else if at(0, b"caff") {
            Some(Format::Caf)
        } else if at(0, b"OggS") {
            Some(Format::Ogg)
        } else if at(0, b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
            Some(Format::Mp3)
        } else {
            None
        }
    }
}

/// What decoding the upload found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub format: Format,
    pub duration_ms: i64,
    pub sample_rate: u32,
    pub channels: u32,
}

fn not_audio(why: &str) -> Error {
    Error::UnsupportedMediaType(format!(
        "the file is not audio this platform plays ({why}); send wav, mp3, ogg, aiff or caf"
    ))
}

/// Decodes `bytes` completely (CPU-bound: call it off the async runtime). Not audio: 415;
/// longer than `max_ms`: 400 on `file`.
pub fn probe(bytes: bytes::Bytes, max_ms: i64) -> Result<Probe> {
    let format = Format::sniff(&bytes).ok_or_else(|| not_audio("unknown container"))?;
    let mut hint = Hint::new();
    hint.with_extension(format.extension());
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), MediaSourceStreamOptions::default());
    let probed = symphonia::default::get_probe()
        .format(&hint, source, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|_| not_audio("no readable audio stream"))?;
    let mut reader = probed.format;
    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| not_audio("no audio track"))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|_| not_audio("an unsupported codec"))?;
    let (mut sample_rate, mut channels) =
        (track.codec_params.sample_rate.unwrap_or(0), track.codec_params.channels.map_or(0, |c| c.count() as u32));
    let (mut frames, mut packets, mut bad_packets) = (0u64, 0u64, 0u64);
    let too_long = |frames: u64, rate: u32| rate > 0 && (frames * 1000 / rate as u64) as i64 > max_ms;
    loop {
        let packet = match reader.next_packet() {
            Ok(p) => p,
            Err(DecodeError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(DecodeError::ResetRequired) => break,
            Err(_) if packets > 0 => break,
            Err(_) => return Err(not_audio("no readable audio stream")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        packets += 1;
        match decoder.decode(&packet) {
            Ok(decoded) => {
                let spec = decoded.spec();
                sample_rate = spec.rate;
                channels = spec.channels.count() as u32;
                frames += decoded.frames() as u64;
            }
            Err(DecodeError::DecodeError(_)) => bad_packets += 1,
            Err(_) => return Err(not_audio("it does not decode")),
        }
        if too_long(frames, sample_rate) {
            return Err(Error::field("file", format!("must be at most {} seconds long", max_ms / 1000)));
        }
    }
    // A stream that is mostly damage is not a sound.
    if frames == 0 || sample_rate == 0 || bad_packets * 2 > packets {
        return Err(not_audio("it does not decode"));
    }
    Ok(Probe { format, duration_ms: (frames * 1000 / sample_rate as u64) as i64, sample_rate, channels })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A mono 16-bit PCM wav of `ms` milliseconds of a 440 Hz tone.
    pub fn wav(ms: u32, rate: u32) -> Vec<u8> {
        let samples = (rate as u64 * ms as u64 / 1000) as u32;
        let data_len = samples * 2;
        let mut b = Vec::with_capacity(44 + data_len as usize);
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes()); // PCM
        b.extend_from_slice(&1u16.to_le_bytes()); // mono
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        for i in 0..samples {
            let v = ((i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin() * 8000.0) as i16;
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    #[test]
    fn a_wav_decodes_to_its_duration() {
        let p = probe(wav(1500, 8000).into(), 30_000).unwrap();
        assert_eq!(p, Probe { format: Format::Wav, duration_ms: 1500, sample_rate: 8000, channels: 1 });
    }

    #[test]
    fn a_sound_over_the_limit_is_refused() {
        let e = probe(wav(2000, 8000).into(), 1000).unwrap_err();
        assert_eq!(e.status(), 400, "{e:?}");
    }

    #[test]
    fn what_is_not_audio_is_415_whatever_it_starts_like() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
        assert_eq!(probe(png.into(), 30_000).unwrap_err().status(), 415);
        // A RIFF/WAVE header over garbage, and an ID3 tag over nothing.
        let mut fake = wav(10, 8000)[..12].to_vec();
        fake.extend_from_slice(&[7u8; 400]);
        assert_eq!(probe(fake.into(), 30_000).unwrap_err().status(), 415);
        assert_eq!(probe(b"ID3\x04\0\0\0\0\0\0".to_vec().into(), 30_000).unwrap_err().status(), 415);
        assert_eq!(probe(bytes::Bytes::new(), 30_000).unwrap_err().status(), 415);
    }
}
