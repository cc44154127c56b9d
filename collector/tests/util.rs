//! Helpers shared by the integration tests.

/// A NetFlow v5 datagram of `count` flows with sequence number `seq`; the
/// flows' source addresses are 10.0.0.`salt`, their destinations count up
/// from `seq` (so every flow of a run is distinct).
pub fn v5_datagram(seq: u32, count: u16, salt: u32) -> Vec<u8> {
    let mut b = vec![0u8; 24 + 48 * count as usize];
    b[0..2].copy_from_slice(&5u16.to_be_bytes());
    b[2..4].copy_from_slice(&count.to_be_bytes());
    b[4..8].copy_from_slice(&1_000_000u32.to_be_bytes());
    b[8..12].copy_from_slice(&1_795_313_964u32.to_be_bytes());
    b[16..20].copy_from_slice(&seq.to_be_bytes());
    for i in 0..count as usize {
        let r = &mut b[24 + 48 * i..24 + 48 * (i + 1)];
        r[0..4].copy_from_slice(&(0x0a00_0000 + salt).to_be_bytes());
        r[4..8].copy_from_slice(&(seq + i as u32).to_be_bytes());
        r[16..20].copy_from_slice(&1u32.to_be_bytes());
        r[20..24].copy_from_slice(&64u32.to_be_bytes());
        r[24..28].copy_from_slice(&999_000u32.to_be_bytes());
        r[28..32].copy_from_slice(&999_500u32.to_be_bytes());
        r[38] = 17;
    }
    b
}
