using System.Text.Json;
using System.Text.Json.Serialization;

using Diffuse.IO;

namespace Diffuse.Configuration;

/// <summary>
/// A scheduler's configuration, with diffusers' key names and meanings (snake_case in JSON).
/// Immutable: change a value with <c>config with { Eta = 0.5 }</c>.
/// </summary>
public sealed record SchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.0001;
    public double BetaEnd { get; init; } = 0.02;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public VarianceType VarianceType { get; init; } = VarianceType.FixedSmall;
    /// <summary>Null: the scheduler's own default (diffusers': on for DDPM and DDIM, off for Heun).</summary>
    public bool? ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    /// <summary>Null: the scheduler's own default (diffusers': <c>leading</c> for DDPM and DDIM, <c>linspace</c> for most others).</summary>
    public TimestepSpacing? TimestepSpacing { get; init; }
    public int StepsOffset { get; init; }
    /// <summary>
    /// The last step lands on abar = 1 (true) or on abar_0 (false). Null: the scheduler's own default
    /// (diffusers': true for DDIM, false for PNDM).
    /// </summary>
    public bool? SetAlphaToOne { get; init; }
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>
    /// DDIM's eta (Song et al. 2021, Eq. 16): 0 is deterministic DDIM, 1 is DDPM-like. In diffusers
    /// it is an argument of <c>step</c>; here it is configuration, so a run is fixed by its config.
    /// </summary>
    public double Eta { get; init; }

    /// <summary>PNDM: skip the Runge-Kutta warm-up and start the linear multistep at once (PLMS; diffusers' <c>skip_prk_steps</c>).</summary>
    public bool SkipPrkSteps { get; init; }

    /// <summary>
    /// DDIM's <c>use_clipped_model_output</c> (an argument of diffusers' <c>step</c>, configuration here like
    /// <see cref="Eta"/>): re-derive eps from the thresholded or clipped x_0, as GLIDE does. Off: eps is the model's own.
    /// </summary>
    public bool UseClippedModelOutput { get; init; }

    // Sigma-based and multistep schedulers (the samplers issue); DDPM and DDIM ignore these.

    /// <summary>Karras et al. 2022 sigmas (Eq. 5, rho 7) for the inference steps.</summary>
    public bool UseKarrasSigmas { get; init; }
    /// <summary>Inference sigmas evenly spaced in log sigma.</summary>
    public bool UseExponentialSigmas { get; init; }
    public int SolverOrder { get; init; } = 2;
    public AlgorithmType AlgorithmType { get; init; } = AlgorithmType.DpmsolverPlusPlus;
    /// <summary>Null: the scheduler's own default (<c>midpoint</c> for DPM-Solver, <c>bh2</c> for UniPC).</summary>
    public SolverType? SolverType { get; init; }
    /// <summary>
    /// Lower orders on the last steps. Null: the scheduler's own default (diffusers': true for the multistep
    /// solvers, false for the singlestep one).
    /// </summary>
    public bool? LowerOrderFinal { get; init; }
    public bool EulerAtFinal { get; init; }
    /// <summary>Null: the scheduler's own default (<c>zero</c> in diffusers).</summary>
    public FinalSigmasType? FinalSigmasType { get; init; }
    /// <summary>Dynamic thresholding of x_0 (Saharia et al. 2022, Imagen, section 2.3).</summary>
    public bool Thresholding { get; init; }
    public double DynamicThresholdingRatio { get; init; } = 0.995;
    public double SampleMaxValue { get; init; } = 1.0;
    /// <summary>
    /// DPM-Solver: timesteps whose half log-SNR lambda lies below this are left out of the schedule (critical for
    /// <c>squaredcos_cap_v2</c>); negative infinity keeps them all.
    /// </summary>
    public double LambdaMinClipped { get; init; } = double.NegativeInfinity;

    /// <summary>
    /// A Diffuse key, not a diffusers one: where the stochastic sigma-based and SDE samplers (euler_ancestral,
    /// dpm2_ancestral, dpmpp_2s_ancestral, dpmpp_2m_sde, dpmpp_3m_sde, SDE dpmpp_2s) take their step noise, <c>gaussian</c> (the default, diffusers')
    /// or <c>brownian_tree</c>; the other schedulers refuse <c>brownian_tree</c>. Written only when not the default,
    /// so diffusers can read the config.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public NoiseSampler NoiseSampler { get; init; }

    // EDM's churn (Karras et al. 2022, arXiv:2206.00364, Algorithm 2), Euler and Heun only; the names of the arguments
    // of diffusers' Euler step and k-diffusion's samplers. Null is the default, which is not written, so model folders
    // written before these keys keep their config and fingerprint.

    /// <summary>S_churn: the total churn of a run, gamma_i = min(S_churn / N, sqrt(2) - 1) per step. Null or 0: no churn (the deterministic sampler).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SChurn { get; init; }
    /// <summary>S_tmin: the lowest sigma that is churned. Null: 0.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? STmin { get; init; }
    /// <summary>S_tmax: the highest sigma that is churned. Null: infinity.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? STmax { get; init; }
    /// <summary>S_noise: the churn noise's standard deviation, slightly above 1 to offset the denoiser's loss of detail. Null: 1.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SNoise { get; init; }

    /// <summary>Keys the JSON had that no property takes (kept so that callers can report them).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownKeys { get; init; }

    /// <summary>Reads a config from JSON; malformed JSON or a wrong value type is a one-line <see cref="DiffuseException"/>.</summary>
    /// <remarks>
    /// Reads diffusers' own config files as written: Python's <c>json.dumps</c> spells infinities and NaN as bare
    /// <c>-Infinity</c> / <c>Infinity</c> / <c>NaN</c> (read as numbers), a key set to <c>null</c> (Python's None) means
    /// the scheduler's default, and keys starting with an underscore (<c>_class_name</c>, <c>_diffusers_version</c>)
    /// are bookkeeping, skipped as diffusers skips them.
    /// </remarks>
    /// <param name="json">The file's text.</param>
    /// <param name="source">The file's name for messages; null: "a scheduler config".</param>
    public static SchedulerConfig FromJson(string json, string? source = null)
    {
        string what = source is null ? "invalid scheduler config" : $"{source} is not a valid scheduler config";
        if (string.IsNullOrWhiteSpace(json)) return new SchedulerConfig();
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(QuoteNamedNumbers(json));
            if (node is System.Text.Json.Nodes.JsonObject obj)
                foreach (var key in obj.Where(p => p.Value is null || p.Key.StartsWith('_')).Select(p => p.Key).ToArray())
                    obj.Remove(key);
            return node?.Deserialize<SchedulerConfig>(Json.Options)
                   ?? throw new DiffuseException($"{what}: it is JSON null; expected an object");
        }
        catch (JsonException e)
        {
            throw new DiffuseException($"{what}: {JsonErrors.Describe(e)}");
        }
    }

    /// <summary>Puts quotes around the bare NaN / Infinity / -Infinity tokens outside strings, which JSON lacks and Python writes.</summary>
    private static string QuoteNamedNumbers(string json)
    {
        var text = new System.Text.StringBuilder(json.Length + 8);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                text.Append(c);
                if (c == '\\' && i + 1 < json.Length) text.Append(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; text.Append(c); continue; }
            var token = new[] { "-Infinity", "Infinity", "NaN" }.FirstOrDefault(t => string.CompareOrdinal(json, i, t, 0, t.Length) == 0);
            if (token is null) { text.Append(c); continue; }
            text.Append('"').Append(token).Append('"');
            i += token.Length - 1;
        }
        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this with { UnknownKeys = null }, Json.Options);

    /// <summary>
    /// Throws a one-line error (naming the key) for the values no schedule can be built from: sizes out of bounds, betas
    /// that are not numbers in [0, 1). What each scheduler further requires it checks itself when created.
    /// </summary>
    public void Validate()
    {
        if (NumTrainTimesteps < 1) throw new DiffuseException($"scheduler num_train_timesteps must be at least 1, got {NumTrainTimesteps}");
        Limits.AtMost(NumTrainTimesteps, Limits.TrainTimesteps, "scheduler num_train_timesteps");
        if (!(BetaStart >= 0 && BetaStart < 1)) throw new DiffuseException($"scheduler beta_start must be a number in [0, 1), got {BetaStart}");
        if (!(BetaEnd >= 0 && BetaEnd < 1)) throw new DiffuseException($"scheduler beta_end must be a number in [0, 1), got {BetaEnd}");
    }
}
