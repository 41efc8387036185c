using TorchSharp;

namespace Diffuse.Process;

/// <summary>
/// The seeds of one run's samples: sample k's generator is seeded from the run's key and k alone, so sample k of a run
/// is the same whatever the batch size and whichever batch it falls in (the per-image generators of Karras et al. 2022,
/// arXiv:2206.00364, whose code we do not use). The key is one draw from the run's generator, so one seed fixes the run.
/// </summary>
/// <remarks>
/// libtorch's CPU generator (a Mersenne Twister) keeps only the low 32 bits of its seed, so a 64-bit hash of (key, k)
/// would give two of n samples the same stream with probability about n^2 / 2^33 (a quarter at 50,000 images). The seed
/// of sample k is instead f(key + k mod 2^32) with f a bijection of 32-bit words (MurmurHash3's finaliser, Appleby 2011):
/// the samples of one run never share a stream (up to 2^32 of them), and neighbouring indices get unrelated seeds.
/// </remarks>
public readonly record struct SampleSeeds(uint Key)
{
    /// <summary>The seeds of a run whose key is one draw from <paramref name="generator"/> (which advances, so a second run from it differs).</summary>
    public static SampleSeeds Draw(torch.Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var key = torch.randint(0, 1L << 32, [1], dtype: torch.int64, generator: generator);
        return new SampleSeeds((uint)key.item<long>());
    }

    /// <summary>The seed of sample <paramref name="index"/> of the run.</summary>
    public uint For(long index) => Mix(Key + (uint)index);

    /// <summary>The generators of samples [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>): one batch of the run.</summary>
    public SampleGenerators Batch(long first, long count) => SampleGenerators.PerSample(this, first, count);

    /// <summary>MurmurHash3's 32-bit finaliser: xor-shifts and odd multiplications, each invertible, so distinct words stay distinct.</summary>
    private static uint Mix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85EBCA6BU;
        h ^= h >> 13;
        h *= 0xC2B2AE35U;
        h ^= h >> 16;
        return h;
    }
}
