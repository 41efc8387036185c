using System.Text.RegularExpressions;

namespace Diffuse.Cli;

/// <summary>
/// The library names parameters and config keys in its errors (<see cref="DiffuseException.Key"/>: <c>learning_rate</c>);
/// a user of the CLI set them by flags, so the CLI puts its flag in their place: the message's leading key, and every other
/// key of this table with an underscore (unambiguous words) that the message names.
/// </summary>
public static partial class ConfigKeyFlags
{
    static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["steps"] = "--steps", ["batch_size"] = "--batch-size", ["gradient_accumulation"] = "--grad-accum",
        ["learning_rate"] = "--lr", ["weight_decay"] = "--weight-decay", ["vlb_weight"] = "--vlb-weight",
        ["cond_drop"] = "--cond-drop", ["ema_decay"] = "--ema-decay", ["crop_padding"] = "--crop-padding",
        ["validation_fraction"] = "--val-fraction", ["checkpoint_every"] = "--checkpoint-every",
        ["validate_every"] = "--validate-every", ["sample_every"] = "--sample-every", ["n"] = "--n",
        ["guidance_scale"] = "--guidance", ["guidance_rescale"] = "--guidance-rescale", ["jump_length"] = "--jump-length",
        ["resample"] = "--resample", ["strength"] = "--strength", ["corrector_steps"] = "--corrector-steps", ["snr"] = "--snr",
        ["step_size"] = "--step-size", ["classifier_scale"] = "--classifier-scale",
        ["beta_max"] = "--beta-max", ["sigma_min"] = "--sigma-min", ["sigma_max"] = "--sigma-max",
        ["log_sigma_mean"] = "--log-sigma-mean", ["log_sigma_std"] = "--log-sigma-std",
    };

    /// <summary>Commands whose flag for a key differs from the table's.</summary>
    static readonly Dictionary<(string Command, string Key), string> PerCommand = new()
    {
        [("train-classifier", "validation_fraction")] = "--validation",
    };

    /// <summary>The command running now (set by <see cref="Cli.Run"/>), for <see cref="PerCommand"/>.</summary>
    public static string? Command { get; set; }

    [GeneratedRegex(@"\b[a-z]+(?:_[a-z]+)+\b")] private static partial Regex UnderscoreWord();

    /// <summary>The message of <paramref name="e"/> in the CLI's words.</summary>
    public static string Message(DiffuseException e)
    {
        string message = e.Message;
        if (e.Key is { } key && message.StartsWith(key, StringComparison.Ordinal) && FlagOf(key) is { } flag)
            message = flag + message[key.Length..];
        if (e.Key is null) return message;
        return UnderscoreWord().Replace(message, m => FlagOf(m.Value) ?? m.Value);
    }

    static string? FlagOf(string key) =>
        Command is { } command && PerCommand.TryGetValue((command, key), out var special) ? special : Flags.GetValueOrDefault(key);
}
