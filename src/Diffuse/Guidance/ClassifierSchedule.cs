using Diffuse.Configuration;
using System.Globalization;
using Diffuse.IO;
using Diffuse.Schedules;

namespace Diffuse.Guidance;

/// <summary>
/// The forward process a noise-aware classifier was trained on (diffusers' scheduler keys of the noise schedule only):
/// a classifier guides only models of the same schedule, because it has learned p(y | x_t) at these noise levels.
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record ClassifierSchedule
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.0001;
    public double BetaEnd { get; init; } = 0.02;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>The schedule of a model's scheduler config.</summary>
    public static ClassifierSchedule Of(SchedulerConfig config) => new()
    {
        NumTrainTimesteps = config.NumTrainTimesteps, BetaStart = config.BetaStart, BetaEnd = config.BetaEnd,
        BetaSchedule = config.BetaSchedule, RescaleBetasZeroSnr = config.RescaleBetasZeroSnr,
    };

    public NoiseSchedule ToNoiseSchedule() => NoiseSchedule.Create(BetaSchedule, NumTrainTimesteps, BetaStart, BetaEnd, RescaleBetasZeroSnr);

    /// <summary>"linear, 1000 steps, beta 0.0001..0.02" (the betas only where the schedule reads them).</summary>
    public string Describe()
    {
        string betas = BetaSchedule == BetaSchedule.SquaredcosCapV2 ? "" : string.Create(CultureInfo.InvariantCulture, $", beta {BetaStart:G4}..{BetaEnd:G4}");
        return $"{Json.Name(BetaSchedule)}, {NumTrainTimesteps} steps{betas}{(RescaleBetasZeroSnr ? ", zero terminal SNR" : "")}";
    }

    /// <summary>True when both describe the same alphas_cumprod (betas compared only where the schedule reads them).</summary>
    public bool SameAs(ClassifierSchedule other) =>
        NumTrainTimesteps == other.NumTrainTimesteps && BetaSchedule == other.BetaSchedule && RescaleBetasZeroSnr == other.RescaleBetasZeroSnr &&
        (BetaSchedule == BetaSchedule.SquaredcosCapV2 || (Math.Abs(BetaStart - other.BetaStart) <= 1e-12 && Math.Abs(BetaEnd - other.BetaEnd) <= 1e-12));

    public void Validate()
    {
        Limits.AtMost(NumTrainTimesteps, Limits.TrainTimesteps, "schedule num_train_timesteps");
        ToNoiseSchedule();
    }
}
