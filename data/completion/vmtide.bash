# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for vmtide(1): commands, options, and guest names from
# vmtided (`vmtide list --names`, quietly, with a short timeout).

_vmtide_guests()
{
        local socket=()
        local i
        # Talk to the daemon the command line names, if it names one.
        for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
                case ${COMP_WORDS[i]} in
                -s | --socket) socket=(--socket "${COMP_WORDS[i + 1]}") ;;
                --socket=*) socket=("${COMP_WORDS[i]}") ;;
                esac
        done
        vmtide "${socket[@]}" --timeout 2 list --names 2>/dev/null
}

_vmtide()
{
        local cur prev words cword
        _init_completion || return

        local commands="status list stats setmem policy pause resume events ksm migrate hosts plan capacity risk doctor help"
        local global="-s --socket -j --json -t --timeout -V --version -h --help"
        local command="" i

        case $prev in
        -s | --socket)
                _filedir
                return
                ;;
        -t | --timeout | --interval | --min | --max | --shares)
                return
                ;;
        esac

        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                -s | --socket | -t | --timeout) ((i++)) ;;
                -*) ;;
                *)
                        command=${words[i]}
                        break
                        ;;
                esac
        done

        if [[ -z $command ]]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$global" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
                fi
                return
        fi

        local options="" guest=0 nargs=0
        case $command in
        list) options="--names" ;;
        stats) guest=1 ;;
        setmem) guest=1 ;;
        policy)
                guest=1
                options="--min --max --shares --opt-out --opt-in --ksm-opt-out --ksm-opt-in"
                ;;
        migrate)
                guest=1
                options="--cancel --no-wait"
                ;;
        doctor) options="--interval --list-rules" ;;
        help)
                COMPREPLY=($(compgen -W "$commands" -- "$cur"))
                return
                ;;
        esac

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$options $global" -- "$cur"))
                return
        fi
        # Arguments after the command, options left out.
        for ((i = i + 1; i < cword; i++)); do
                [[ ${words[i]} == -* ]] || ((nargs++))
        done
        if ((guest == 1 && nargs == 0)); then
                COMPREPLY=($(compgen -W "$(_vmtide_guests)" -- "$cur"))
        elif [[ $command == setmem && $nargs -eq 1 ]]; then
                COMPREPLY=($(compgen -W "auto" -- "$cur"))
        elif [[ $command == migrate && $nargs -eq 1 ]]; then
                # Peers: the first column of `vmtide hosts`, header left out.
                COMPREPLY=($(compgen -W "$(vmtide --timeout 2 hosts 2>/dev/null | awk 'NR > 1 { print $1 }')" -- "$cur"))
        fi
} &&
        complete -F _vmtide vmtide

# vmtided: its options.
_vmtided()
{
        local cur prev words cword
        _init_completion || return
        case $prev in
        -c | --config | -s | --control-socket)
                _filedir
                return
                ;;
        -d | --qmp-dir)
                _filedir -d
                return
                ;;
        -b | --budget) return ;;
        esac
        COMPREPLY=($(compgen -W "-c --config -s --control-socket -d --qmp-dir -b --budget --check -v --verbose -V --version -h --help" -- "$cur"))
} &&
        complete -F _vmtided vmtided
