"""Section 3 of the fact sheet: ids, signatures and signer recovery, with every recorded vector."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polynb.platforms.colonies import crypto

SERVER = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"
COLONY = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
EXECUTOR = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"
PYCOLONIES_TEST = "d6eb959e9aec2e6fdc44b5862b269e987b8a4d6f2baca542d8acaa97ee5e74f6"
ONE = "0" * 63 + "1"

ID_VECTORS = [
    (SERVER, "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103"),
    (COLONY, "4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf4"),
    (EXECUTOR, "3fc05cf3df4b494e95d6a3d297a34f19938f7daa7422ab0d4f794454133341ac"),
    ("6d2fb6f546bacfd98c68769e61e0b44a697a30596c018a50e28200aa59b01c0a",
     "4fef2b5a82d134d058c1883c72d6d9caf77cd59ca82d73105017590dea3dcb87"),
    (ONE, "2036f5bc759cfb3589fb4e2342bc9b3c843c5ef27dc8ded538de328a7567089b"),
]

SIGNATURE_VECTORS = [
    (PYCOLONIES_TEST, "hello", "e713a1bb015fecabb5a084b0fe6d6e7271fca6f79525a634183cfdb175fe69241f4da161779d8e6b761200e1cf93766010a19072fa778f9643363e2cfadd640900"),
    (EXECUTOR, "hello", "887d6a2291487951e99ea07c3a15a37e29971856c85ff732d8d6cd087c525a5a1019ef841dc4880f8a592e5d45cbddfcd94b3ca2c9651b4c990f2b959793adc701"),
    (EXECUTOR, "test_msg", "9ef955b58a29989761cb2b96aa076c6f1069d4333a4f56d35854bf846986d4ea004493f15fa57231437e5b97d5a75611c83fc8c207f393f0109fda5a82eac28901"),
    (EXECUTOR, "", "5ae435df7a32f445244ea068c06d946b7036039f1cc2626dafaced7456eca0ca4eb15e0712203cc0a82db459812463cc11d28d6cf05c8b6283fc790d4b8f64d001"),
    (SERVER, "hello", "ff142300ec91116d6aab0371251b9e6cf931e478d8c0d8e985d3ff45aafcbed5181411334945c938b91f6f755919986db5f6cc65f5f3d0fc9744aa5236f327d001"),
    (SERVER, "test_msg", "b013a766af75c655bf14ab8a362bb223624d857a29e9642b63d75a8904ebc9c33bb0bd135a1f5ba7710b9c727778d13be5b0188332fbf0b7e067f398c18f8bb901"),
    (COLONY, "hello", "6007da6e46cf25b373cf3fbc263e5f5ccab0509bc3f165f8339ef44c3918072320a0b842408f91e816057c4f9c9052a233c14ab15d40d2437e46708acc2eaec001"),
    (ONE, "test_msg", "ea290352d310b4d542398beb2f40659fbcbaa8f27adead61adfa068e6b6071f7599b4658c286801b14f594e8fdb316e3c08de3ae95275775cb857190e10b8f6400"),
]


@pytest.mark.parametrize("private_key, expected", ID_VECTORS)
def test_identity_is_sha3_of_the_uncompressed_public_key_text(private_key, expected):
    assert crypto.identity(private_key) == expected


def test_sha3_is_fips_sha3_not_keccak():
    assert crypto.sha3_hex("test_msg") == "a8420d31f97e372d5c5f9ba194f7ef9ce99953fa2b56d5af413cd9b3ca160da2"
    assert crypto.sha3_hex("") == "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"


@pytest.mark.parametrize("private_key, message, expected", SIGNATURE_VECTORS)
def test_signature_matches_the_recorded_vector(private_key, message, expected):
    assert crypto.sign(message, private_key) == expected


@pytest.mark.parametrize("private_key, message, signature", SIGNATURE_VECTORS)
def test_recovery_names_the_signer_of_each_vector(private_key, message, signature):
    assert crypto.recover(message, signature) == crypto.identity(private_key)


@pytest.mark.parametrize("payload, signature", [
    ("eyJtc2d0eXBlIjogImFzc2lnbnByb2Nlc3Ntc2ciLCAidGltZW91dCI6IDEwLCAiY29sb255bmFtZSI6ICJkZXYifQ==",
     "7c844a85504dc3c3f29b0de240aa6fe0c68a3e949cf611b4a2309e3a3fc7cb4743388ac8ec17967b1b678ae1f1e2be76e04f3e00b2682bdfd35ede3d4f45d1d000"),
    ("eyJtc2d0eXBlIjogImdldHByb2Nlc3Ntc2ciLCAicHJvY2Vzc2lkIjogIngifQ==",
     "542113a9f02dc739624016141726f8e5c1d21514213994ba212dd84cffdb81b85cd7e51792213998f450a1dba85b636bb7bb23bdc27fdd6792af792a882fd2ca01"),
])
def test_envelope_vectors_are_signed_over_the_base64_text(payload, signature):
    assert crypto.sign(payload, EXECUTOR) == signature
    assert crypto.recover(payload, signature) == crypto.identity(EXECUTOR)


def test_upper_case_signature_hex_is_accepted():
    _, message, signature = SIGNATURE_VECTORS[1]
    assert crypto.recover(message, signature.upper()) == crypto.identity(EXECUTOR)


def test_high_s_twin_of_a_valid_signature_is_refused():
    _, message, signature = SIGNATURE_VECTORS[1]
    r, s, v = signature[:64], int(signature[64:128], 16), int(signature[128:], 16)
    twin = f"{r}{crypto.N - s:064x}{v ^ 1:02x}"
    with pytest.raises(crypto.SignatureError, match="over half the order"):
        crypto.recover(message, twin)


@pytest.mark.parametrize("signature", ["00" * 65, "00" * 64, "zz" * 65, "", "ab" * 66])
def test_malformed_signatures_name_nobody(signature):
    with pytest.raises(crypto.SignatureError, match="Invalid signature"):
        crypto.recover("hello", signature)


def test_a_signature_over_another_message_recovers_someone_else():
    _, _, signature = SIGNATURE_VECTORS[1]
    assert not crypto.verify("hellO", signature, crypto.identity(EXECUTOR))
    assert crypto.verify("hello", signature, crypto.identity(EXECUTOR))


@pytest.mark.parametrize("bad", ["", "00" * 32, "ff" * 32, "xyz" * 21 + "a", EXECUTOR[:-2]])
def test_invalid_private_keys_are_refused(bad):
    with pytest.raises(ValueError):
        crypto.identity(bad)


@settings(max_examples=60, deadline=None)
@given(scalar=st.integers(min_value=1, max_value=crypto.N - 1), message=st.text(max_size=200))
def test_sign_then_recover_returns_the_signers_id(scalar, message):
    private_key = f"{scalar:064x}"
    signature = crypto.sign(message, private_key)
    assert len(signature) == 130 and int(signature[64:128], 16) <= crypto.N // 2
    assert crypto.recover(message, signature) == crypto.identity(private_key)


def test_generated_keys_are_valid_and_distinct():
    first, second = crypto.generate_private_key(), crypto.generate_private_key()
    assert first != second
    assert crypto.recover("x", crypto.sign("x", first)) == crypto.identity(first)
