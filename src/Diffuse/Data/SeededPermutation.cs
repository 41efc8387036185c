namespace Diffuse.Data;

/// <summary>
/// A permutation of 0..n-1 fixed by a seed on every run and machine: a Fisher-Yates shuffle
/// (Knuth, TAOCP vol. 2, Algorithm 3.4.2P) driven by SplitMix64 (Steele, Lea and Flood 2014),
/// with rejection sampling so that every bound is drawn without modulo bias. Spelled out here
/// rather than borrowed from System.Random or torch.randperm, whose algorithms are free to
/// change between releases.
/// </summary>
internal static class SeededPermutation
{
    /// <summary>The permutation of 0..<paramref name="n"/>-1 for <paramref name="seed"/>.</summary>
    public static long[] Create(long n, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var order = new long[n];
        for (long i = 0; i < n; i++) order[i] = i;
        var state = unchecked((ulong)seed);
        for (var i = n - 1; i > 0; i--)
        {
            var j = (long)Below((ulong)i + 1, ref state);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    static ulong Below(ulong bound, ref ulong state)
    {
        // Reject the top partial copy of [0, bound) in the 64-bit range so every value is equally likely.
        var limit = ulong.MaxValue - ulong.MaxValue % bound;
        while (true)
        {
            var x = Next(ref state);
            if (x < limit) return x % bound;
        }
    }

    static ulong Next(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
