using Diffuse.Process;

namespace Diffuse.Pipelines;

/// <summary>How a model was (or is to be) trained ("training" in config.json).</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainingSpec
{
    public int Steps { get; init; } = 4000;
    public long Seed { get; init; }
    public int BatchSize { get; init; } = 512;
    public double LearningRate { get; init; } = 2e-3;
    public int WarmupSteps { get; init; } = 100;
    public LossWeighting Loss { get; init; } = LossWeighting.Simple;
    public double MinSnrGamma { get; init; } = 5.0;
    public double EmaDecay { get; init; } = 0.995;
    public double GradClip { get; init; } = 1.0;

    public void Validate()
    {
        if (Steps < 1) throw new DiffuseException($"--steps must be at least 1, got {Steps}");
        if (BatchSize < 1) throw new DiffuseException($"--batch-size must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new DiffuseException($"--lr must be a positive number, got {LearningRate}");
        if (WarmupSteps < 0) throw new DiffuseException($"warmup steps must be at least 0, got {WarmupSteps}");
        if (!(MinSnrGamma > 0)) throw new DiffuseException($"min-SNR gamma must be positive, got {MinSnrGamma}");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new DiffuseException($"--ema-decay must be in [0, 1), got {EmaDecay}");
        if (!(GradClip > 0)) throw new DiffuseException($"gradient clip must be positive, got {GradClip}");
    }
}
