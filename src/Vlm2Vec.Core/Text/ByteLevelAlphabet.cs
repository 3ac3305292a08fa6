namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The GPT-2 byte-to-character map that byte-level BPE works on: every byte becomes one printable character, so that
/// tokens are strings of these characters (a space is <c>Ġ</c>, a newline <c>Ċ</c>). Printable Latin-1 bytes map to
/// themselves; the 68 others map to U+0100 onwards, in byte order.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>One past the highest character the map produces (U+0143).</summary>
    private const int CharLimit = 0x144;

    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte(ByteToCharTable);

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char ByteToChar(byte value) => ByteToCharTable[value];

    /// <summary>The byte a byte-level character stands for, or -1 when <paramref name="c"/> is not one.</summary>
    public static int CharToByte(char c) => c < CharLimit ? CharToByteTable[c] : -1;

    /// <summary>
    /// Appends the bytes that a token string stands for, the way the Hugging Face ByteLevel decoder does: when every
    /// character is a byte-level character, those bytes; otherwise (a special token such as <c>&lt;|im_end|&gt;</c> written
    /// with other characters) the token's own UTF-8 bytes.
    /// </summary>
    public static byte[] TokenToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            var b = CharToByte(token[i]);
            if (b < 0)
            {
                return System.Text.Encoding.UTF8.GetBytes(token);
            }

            bytes[i] = (byte)b;
        }

        return bytes;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 0x100;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }

    private static short[] BuildCharToByte(char[] byteToChar)
    {
        var map = new short[CharLimit];
        Array.Fill(map, (short)-1);
        for (var b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (short)b;
        }

        return map;
    }
}
