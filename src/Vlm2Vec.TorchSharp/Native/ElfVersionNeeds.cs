using System.Buffers.Binary;
using System.Text;

namespace Vlm2Vec.TorchSharp;

/// <summary>
/// Reads and edits the version-need table (<c>.gnu.version_r</c>) of an ELF64 little-endian shared library.
/// </summary>
/// <remarks>
/// Written by hand because no maintained .NET package edits ELF version-need flags, and the edit is a single bit:
/// marking a <c>Vernaux</c> entry <c>VER_FLG_WEAK</c> makes the dynamic loader accept a library whose required symbol
/// version the host lacks, as long as no relocation actually binds a symbol of that version.
/// </remarks>
internal static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>The version names the library requires, with their flags and the file offset of each flags field.</summary>
    public static IReadOnlyList<(string File, string Version, ushort Flags, int FlagsOffset)> Read(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("Not an ELF file.");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("Only 64-bit little-endian ELF files are supported.");
        }

        var result = new List<(string, string, ushort, int)>();
        var sectionHeaderOffset = checked((int)BinaryPrimitives.ReadInt64LittleEndian(elf[0x28..]));
        var sectionHeaderSize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]);
        var sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        for (var i = 0; i < sectionCount; i++)
        {
            var header = elf.Slice(sectionHeaderOffset + (i * sectionHeaderSize), sectionHeaderSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != ShtGnuVerneed)
            {
                continue;
            }

            var tableOffset = checked((int)BinaryPrimitives.ReadInt64LittleEndian(header[0x18..]));
            var linkedStrings = BinaryPrimitives.ReadInt32LittleEndian(header[0x28..]);
            var entryCount = BinaryPrimitives.ReadInt32LittleEndian(header[0x2C..]);
            var stringHeader = elf.Slice(sectionHeaderOffset + (linkedStrings * sectionHeaderSize), sectionHeaderSize);
            var stringsOffset = checked((int)BinaryPrimitives.ReadInt64LittleEndian(stringHeader[0x18..]));

            var need = tableOffset;
            for (var n = 0; n < entryCount; n++)
            {
                // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
                var auxCount = BinaryPrimitives.ReadUInt16LittleEndian(elf[(need + 2)..]);
                var file = ReadString(elf, stringsOffset + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(need + 4)..]));
                var aux = need + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(need + 8)..]);
                for (var a = 0; a < auxCount; a++)
                {
                    // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(elf[(aux + 4)..]);
                    var name = ReadString(elf, stringsOffset + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(aux + 8)..]));
                    result.Add((file, name, flags, aux + 4));
                    aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(aux + 12)..]);
                }

                need += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(need + 12)..]);
            }
        }

        return result;
    }

    /// <summary>Marks the named required version weak. Returns false when the library does not require it.</summary>
    public static bool MarkWeak(Span<byte> elf, string version)
    {
        var found = false;
        foreach (var need in Read(elf))
        {
            if (need.Version == version)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(elf[need.FlagsOffset..], (ushort)(need.Flags | VerFlagWeak));
                found = true;
            }
        }

        return found;
    }

    private static string ReadString(ReadOnlySpan<byte> elf, int offset)
    {
        var end = elf[offset..].IndexOf((byte)0);
        return Encoding.ASCII.GetString(elf.Slice(offset, end < 0 ? elf.Length - offset : end));
    }
}
