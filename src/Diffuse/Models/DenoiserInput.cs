using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// What a network may be told beside x_t and t. Each kind of conditioning fills its own slot; a network refuses a slot it
/// does not take (a one-line <see cref="DiffuseException"/>), and an empty slot means that kind's null input (the
/// unconditional branch of classifier-free guidance). The built-in kinds have typed slots; a kind registered from outside
/// the library (a latent's scale, an audio conditioner, a pretrained text encoder's states) fills a <see cref="Named"/> slot,
/// read only by the networks that take it, so adding it changes no library file.
/// </summary>
public sealed record Condition
{
    /// <summary>No conditioning: the unconditional input of every network.</summary>
    public static Condition None { get; } = new();

    /// <summary>Class labels [B] (int64 in [0, classes]; the class count itself is the null label).</summary>
    public Tensor? ClassLabels { get; init; }

    /// <summary>Prompt token ids [B, L] (int64: [CLS], words, [PAD]s).</summary>
    public Tensor? Tokens { get; init; }

    /// <summary>A super-resolution model's low-resolution image, upsampled to the output size [B, C, H, W], perhaps noise-augmented.</summary>
    public Tensor? LowResolution { get; init; }

    /// <summary>The noise levels [B] (forward-process timesteps) of <see cref="LowResolution"/>'s augmentation; null means level 0.</summary>
    public Tensor? NoiseLevels { get; init; }

    /// <summary>
    /// Slots of conditioning kinds added from outside the library, by name: tensors [B, ...] whose rows follow x_t's. A network
    /// that reads one converts it to its own precision (the model converts only x_t and the low-resolution image).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor>? Named { get; init; }

    /// <summary>True when no slot is filled.</summary>
    public bool IsEmpty => ClassLabels is null && Tokens is null && LowResolution is null && NoiseLevels is null && Named is not { Count: > 0 };

    /// <summary>The rows [start, start + length) of every filled slot (for a batch cut into parts).</summary>
    public Condition Rows(long start, long length) => new()
    {
        ClassLabels = ClassLabels?.narrow(0, start, length),
        Tokens = Tokens?.narrow(0, start, length),
        LowResolution = LowResolution?.narrow(0, start, length),
        NoiseLevels = NoiseLevels?.narrow(0, start, length),
        Named = Named?.ToDictionary(slot => slot.Key, slot => slot.Value.narrow(0, start, length)),
    };
}

/// <summary>One network call's inputs: the noisy sample x_t [B, ...], its timesteps t [B], and its <see cref="Condition"/>.</summary>
public sealed record DenoiserInput(Tensor X, Tensor T)
{
    public Condition Condition { get; init; } = Condition.None;

    public DenoiserInput(Tensor x, Tensor t, Condition? condition) : this(x, t) => Condition = condition ?? Condition.None;
}
