using System.Globalization;

namespace Vlm2Vec.Cli.Output;

/// <summary>Formats byte counts for people: <c>512 B</c>, <c>1.5 KiB</c>, <c>4.21 GiB</c> (powers of 1024, invariant culture).</summary>
internal static class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Format(double bytes)
    {
        if (bytes < 1024)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B");
        }

        var unit = 0;
        while (bytes >= 1024 && unit < Units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        var format = bytes >= 100 ? "0" : bytes >= 10 ? "0.0" : "0.00";
        return bytes.ToString(format, CultureInfo.InvariantCulture) + " " + Units[unit];
    }
}
